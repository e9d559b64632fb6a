"""Writes done once through crashes and across workers: the coordination keys, and the journal's settle step.

Every key names its installation (the bot id) and what it guards, so two bots never share one:

* ``start:<bot>:<bp user>``: the lock of a user's startHitl;
* ``conv:<bot>:<bp conversation>``: the lock of a conversation's ``hitlSession`` read-modify-writes;
* ``msg:<bot>:<bp message>``: the lock and the journal entry of one message sent to the helpdesk;
* ``event:<bot>:<bp conversation>:<type>:<occurrence>``: the journal entry of one Botpress event;
* ``author:<bot>:<bp user>``: the memo of an author's helpdesk id;
* ``session-conv:<bot>:<helpdesk session>``: the memo of the Botpress conversation of a helpdesk session;
* ``agent:<bot>:<helpdesk user>``: the memo of a helpdesk agent's Botpress user;
* ``user:<bot>:<bp user>``: the memo of an end user as createUser linked it (read by startHitl);
* ``start-record:<bot>:<bp user>``: the memo holding a user's start record (its last startHitl), 24 hours.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from coordination import Coordinator, JournalState
from external_adapters import ExternalRequestError

from ..botpress import BotpressApiError
from ..context import OperationContext

log = logging.getLogger(__name__)


def start_lock(ctx: OperationContext, bp_user_id: str) -> str:
    """The lock of one user's startHitl."""
    return f"start:{ctx.installation.bot_id}:{bp_user_id}"


def conversation_lock(ctx: OperationContext, bp_conversation_id: str) -> str:
    """The lock under which a conversation's ``hitlSession`` state is read, changed and written."""
    return f"conv:{ctx.installation.bot_id}:{bp_conversation_id}"


def message_key(ctx: OperationContext, bp_message_id: str) -> str:
    """The lock and journal key of one hitl-channel message delivered to the helpdesk."""
    return f"msg:{ctx.installation.bot_id}:{bp_message_id}"


def event_key(ctx: OperationContext, bp_conversation_id: str, event_type: str, occurrence: str) -> str:
    """The journal key of one Botpress event of a conversation (``occurrence`` tells repeats of a type apart)."""
    return f"event:{ctx.installation.bot_id}:{bp_conversation_id}:{event_type}:{occurrence}"


def author_memo(ctx: OperationContext, bp_user_id: str) -> str:
    """The memo key of a message author's helpdesk id."""
    return f"author:{ctx.installation.bot_id}:{bp_user_id}"


def session_conversation_memo(ctx: OperationContext, external_session_id: str) -> str:
    """The memo key of the Botpress conversation linked to a helpdesk session."""
    return f"session-conv:{ctx.installation.bot_id}:{external_session_id}"


def agent_memo(ctx: OperationContext, external_user_id: str) -> str:
    """The memo key of the Botpress user mirroring a helpdesk agent."""
    return f"agent:{ctx.installation.bot_id}:{external_user_id}"


def end_user_memo(ctx: OperationContext, bp_user_id: str) -> str:
    """The memo key of an end user linked by createUser (its helpdesk id, name, email and picture)."""
    return f"user:{ctx.installation.bot_id}:{bp_user_id}"


def start_record_memo(ctx: OperationContext, bp_user_id: str) -> str:
    """The memo key of a user's start record (written only under :func:`start_lock`)."""
    return f"start-record:{ctx.installation.bot_id}:{bp_user_id}"


async def once(
    coordinator: Coordinator,
    key: str,
    *,
    settle: Callable[[], Awaitable[str | None]],
    write: Callable[[], Awaitable[str]],
) -> str:
    """Do ``write`` once for ``key``; return the id it made (now, or on an earlier attempt).

    The intent is journaled before the write. ``done`` with its id: nothing is written again. ``pending`` (an
    attempt whose outcome is unknown: a crash, a lost answer, a 5xx): ``settle`` asks the other side whether it
    happened, and its id ends the matter; ``None`` means it never did, and it is written. A refusal (:func:`refused`)
    proves nothing was written, so the intent is abandoned and a later attempt is new; any other failure leaves
    it pending. Call it under a lock that covers ``key``, so that two attempts never overlap.
    """
    entry = await coordinator.intent(key)
    if entry.state is JournalState.DONE and entry.external_id is not None:
        return entry.external_id
    found = await settle() if entry.state is JournalState.PENDING else None
    if found is not None:
        log.info("%s had an unknown outcome; it did happen (%s): not repeated", key, found)
    made = found if found is not None else await _write(coordinator, key, write)
    await coordinator.done(key, made)
    return made


def refused(exc: BaseException) -> bool:
    """A definite refusal, so nothing was done: a 4xx the helpdesk or Botpress will give again (not a rate limit)."""
    if isinstance(exc, ExternalRequestError):
        return True
    return isinstance(exc, BotpressApiError) and not exc.is_transient and 400 <= exc.status < 500


async def _write(coordinator: Coordinator, key: str, write: Callable[[], Awaitable[str]]) -> str:
    try:
        return await write()
    except Exception as exc:
        if refused(exc):
            await coordinator.abandon(key)
        raise
