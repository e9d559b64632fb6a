"""Reading and writing our two states: ``hitlSession`` (per conversation) and ``hitlStart`` (per user)."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from definition.states import HITL_SESSION_STATE, HITL_START_STATE, HitlSessionState, HitlStartState

from ..botpress import BotpressClient

log = logging.getLogger(__name__)

RECENT_EVENT_KEYS = 200
START_RECORD_EXPIRY_MS = 24 * 3600 * 1000
"""Idle time after which Botpress drops a start record. Only how late a retry is still recognised depends on it:
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


async def create_session(botpress: BotpressClient, bp_conversation_id: str, record: HitlSessionState) -> None:
    """Store the conversation's first session record, unless it has one (Botpress's get-or-set: atomic, so a
    webhook that wrote the record meanwhile, on any worker, loses nothing, and no lock is needed)."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.get_or_set_state("conversation", bp_conversation_id, HITL_SESSION_STATE, payload)


async def load_start(botpress: BotpressClient, bp_user_id: str) -> HitlStartState | None:
    """The user's last startHitl, or ``None`` (also for a record in an older shape: a new key is then minted)."""
    state = await botpress.get_state("user", bp_user_id, HITL_START_STATE)
    if state is None or not state.payload:
        return None
    try:
        return HitlStartState.model_validate(state.payload)
    except ValidationError:
        log.info("start record of user %s is unreadable; treating it as absent", bp_user_id)
        return None


async def is_closed(botpress: BotpressClient, bp_conversation_id: str) -> bool:
    """Whether the conversation's session is known to have ended (stopHitl, or the helpdesk closed it)."""
    record = await load_session(botpress, bp_conversation_id)
    return record is not None and record.closed


async def save_start(botpress: BotpressClient, bp_user_id: str, record: HitlStartState) -> None:
    """Store the user's start record (replacing the previous one); it expires when idle for a day."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.set_state("user", bp_user_id, HITL_START_STATE, payload, expiry_ms=START_RECORD_EXPIRY_MS)
