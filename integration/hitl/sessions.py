"""Reading and writing our two states: ``hitlSession`` (per conversation) and ``hitlStart`` (per user)."""

from __future__ import annotations

from definition.states import HITL_SESSION_STATE, HITL_START_STATE, HitlSessionState, HitlStartState

from ..botpress import BotpressClient

RECENT_EVENT_KEYS = 200
START_RECORD_EXPIRY_MS = 24 * 3600 * 1000


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


async def load_start(botpress: BotpressClient, bp_user_id: str) -> HitlStartState | None:
    """The user's last startHitl attempt, or ``None``."""
    state = await botpress.get_state("user", bp_user_id, HITL_START_STATE)
    if state is None or not state.payload:
        return None
    return HitlStartState.model_validate(state.payload)


async def save_start(botpress: BotpressClient, bp_user_id: str, record: HitlStartState) -> None:
    """Remember a startHitl attempt for a day (long enough for any runtime retry)."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.set_state("user", bp_user_id, HITL_START_STATE, payload, expiry_ms=START_RECORD_EXPIRY_MS)
