"""Reading and writing our two records: ``hitlSession`` (Botpress conversation state) and the start record.

The start record (one per user: the user's last startHitl) is kept in the coordinator's memo, not in Botpress:
it is durable (the embedded SQLite file, or PostgreSQL), shared by every worker and local, so reading and
writing it costs startHitl no upstream call (see docs/writes.md).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from coordination import Coordinator
from definition.states import HITL_SESSION_STATE, HitlSessionState, HitlStartState

from ..botpress import BotpressClient

log = logging.getLogger(__name__)

RECENT_EVENT_KEYS = 200
START_RECORD_SECONDS = 24 * 3600.0
"""How long a start record is kept after its last write. Only how late a retry is still recognised depends on it:
an expired record never brings back an old session, since each new session gets a fresh key."""


def remember(record: HitlSessionState, key: str | None) -> HitlSessionState:
    """The record with ``key`` among its recent event keys (bounded), so a redelivery is recognised."""
    if not key:
        return record
    keys = [*record.recent_event_keys, key][-RECENT_EVENT_KEYS:]
    return record.model_copy(update={"recent_event_keys": keys})


async def load_session(botpress: BotpressClient, bp_conversation_id: str) -> HitlSessionState | None:
    """The conversation's session record, or ``None``."""
    state = await botpress.get_state("conversation", bp_conversation_id, HITL_SESSION_STATE)
    if state is None or not state.payload:
        return None
    return HitlSessionState.model_validate(state.payload)


async def save_session(botpress: BotpressClient, bp_conversation_id: str, record: HitlSessionState) -> None:
    """Store the conversation's session record."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.set_state("conversation", bp_conversation_id, HITL_SESSION_STATE, payload)


async def load_start(coordinator: Coordinator, memo_key: str) -> HitlStartState | None:
    """The user's last startHitl, or ``None`` (also for a record in an older shape: a new key is then minted)."""
    stored = await coordinator.memo_get(memo_key)
    if stored is None:
        return None
    try:
        return HitlStartState.model_validate_json(stored)
    except ValidationError:
        log.info("start record %s is unreadable; treating it as absent", memo_key)
        return None


async def is_closed(botpress: BotpressClient, bp_conversation_id: str) -> bool:
    """Whether the conversation's session is known to have ended (stopHitl, or the helpdesk closed it)."""
    record = await load_session(botpress, bp_conversation_id)
    return record is not None and record.closed


async def save_start(coordinator: Coordinator, memo_key: str, record: HitlStartState) -> None:
    """Store the user's start record (replacing the previous one; a local write, repeated as is on a retry)."""
    await coordinator.memo_set(memo_key, record.model_dump_json(by_alias=True, exclude_none=True), START_RECORD_SECONDS)
