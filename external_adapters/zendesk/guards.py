"""The adapter's guards across workers and crashes, on the coordination port.

Each key names what it guards and its Zendesk side (see docs/zendesk.md, "Several workers and crashes"):

* ``zendesk:ticket:<zendesk_ticket_id>``: the lock every comment delivery to that ticket holds (the outbox);
* ``zendesk:open:<hitl_req tag>``: the lock and the journal entry of the ticket opened for one idempotency key;
* ``zendesk:subscribe:<webhook id>``: the lock of one installation's register and unregister;
* ``zendesk:applied:<webhook id>:<zendesk_ticket_id>``: the memo of the ticket's high-water mark (the newest comment
  applied, see :mod:`.marks`), and the lock under which it moves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from coordination import Coordinator, JournalState

from ..errors import ExternalRequestError


def ticket_key(zendesk_ticket_id: int) -> str:
    """The lock of one ticket's comment deliveries."""
    return f"zendesk:ticket:{zendesk_ticket_id}"


def open_key(key_tag: str) -> str:
    """The lock and journal key of the ticket of one idempotency key (its ``hitl_req_`` tag)."""
    return f"zendesk:open:{key_tag}"


def subscribe_key(webhook_id: str) -> str:
    """The lock of one installation's subscription (its Botpress webhook id)."""
    return f"zendesk:subscribe:{webhook_id}"


def applied_key(webhook_id: str, zendesk_ticket_id: int) -> str:
    """The memo (and the lock) of one ticket's high-water mark, per installation (its Botpress webhook id)."""
    return f"zendesk:applied:{webhook_id}:{zendesk_ticket_id}"


async def once(
    coordinator: Coordinator,
    key: str,
    find: Callable[[], Awaitable[str | None]],
    create: Callable[[], Awaitable[str]],
) -> str:
    """What ``key`` made: the journal's answer once done, else what ``find`` finds, else what ``create`` makes.

    Under the key's lock, so two workers never both find nothing and create. ``find`` runs whenever the journal
    has no outcome (a new key, or a pending one whose attempt crashed or lost its answer): a journal purged or new
    (another data folder) must not open a second ticket for a key Zendesk already has. A definite refusal (a 4xx)
    made nothing: the intent is abandoned, so the journal holds no pending entry for it.
    """
    async with coordinator.lock(key):
        entry = await coordinator.intent(key)
        if entry.state is JournalState.DONE and entry.external_id:
            return entry.external_id
        try:
            made = await find() or await create()
        except ExternalRequestError:
            await coordinator.abandon(key)
            raise
        await coordinator.done(key, made)
        return made
