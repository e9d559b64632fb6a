"""Each ticket's high-water mark: the newest comment id whose messages are all in Botpress.

Kept in the coordination memo (shared by the workers, kept through restarts) under
:func:`.guards.applied_key`. :meth:`ZendeskAdapter.parse_webhook` reads it, so a delivery reads and yields only
the comments newer than it (:mod:`.comments`), and hands the newest comment it read back as the result's
checkpoint; the core calls :meth:`ZendeskAdapter.webhook_applied` once every event of the delivery is applied,
and only then does the mark move. So a crash, or a failed Botpress call, between the read and the move leaves the
mark where it was: the redelivery reads the same comments again, and the message get-or-create on its tag keeps
it from being posted twice. The mark only grows (under its lock), whatever order two workers finish in.

An expired or purged mark is not a loss: the next delivery reads the ticket's comments back to its first one.
"""

from __future__ import annotations

from coordination import Coordinator

from .guards import applied_key

MARK_TTL_SECONDS = 90 * 24 * 3600.0
"""How long a ticket's mark is kept after its last move: longer than a ticket stays open, in practice."""


def checkpoint(zendesk_ticket_id: int, newest_comment_id: int) -> str:
    """The checkpoint of a delivery that read up to ``newest_comment_id``."""
    return f"{zendesk_ticket_id}:{newest_comment_id}"


async def applied(coordinator: Coordinator, webhook_id: str, zendesk_ticket_id: int) -> int | None:
    """The ticket's mark, or ``None`` when none of its comments is known to be applied."""
    value = await coordinator.memo_get(applied_key(webhook_id, zendesk_ticket_id))
    return int(value) if value is not None else None


async def advance(coordinator: Coordinator, webhook_id: str, checkpoint_value: str) -> None:
    """Move the ticket's mark up to the checkpoint's comment; a lower one (a slower worker's) leaves it.

    Retry-safe: setting the maximum is idempotent, and under the mark's lock no two moves interleave.
    """
    ticket, _, comment = checkpoint_value.partition(":")
    key = applied_key(webhook_id, int(ticket))
    async with coordinator.lock(key):
        current = await coordinator.memo_get(key)
        if current is None or int(current) < int(comment):
            await coordinator.memo_set(key, comment, MARK_TTL_SECONDS)
