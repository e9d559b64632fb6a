"""The per-conversation session record (Botpress conversation state ``hitlSession``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..botpress import BotpressClient

SESSION_STATE = "hitlSession"
START_STATE = "hitlStart"
RECENT_EVENT_KEYS = 200
START_RECORD_EXPIRY_MS = 24 * 3600 * 1000


class SessionRecord(BaseModel):
    """What we remember of a session: its helpdesk id, who is assigned, whether it ended."""

    model_config = ConfigDict(populate_by_name=True)

    external_session_id: str = Field(alias="externalSessionId")
    assigned_agent_id: str | None = Field(default=None, alias="assignedAgentId")
    closed: bool = False
    recent_event_keys: list[str] = Field(default_factory=list, alias="recentEventKeys")

    def remember(self, key: str | None) -> None:
        """Keep ``key`` among the recent ones (bounded), so a redelivery is recognised."""
        if key:
            self.recent_event_keys = [*self.recent_event_keys, key][-RECENT_EVENT_KEYS:]


class StartRecord(BaseModel):
    """The last startHitl attempt of a user (Botpress user state ``hitlStart``)."""

    model_config = ConfigDict(populate_by_name=True)

    key: str
    external_session_id: str = Field(alias="externalSessionId")
    conversation_id: str | None = Field(default=None, alias="conversationId")


async def load_session(botpress: BotpressClient, bp_conversation_id: str) -> SessionRecord | None:
    """The conversation's session record, or ``None``."""
    state = await botpress.get_state("conversation", bp_conversation_id, SESSION_STATE)
    if state is None or not state.payload:
        return None
    return SessionRecord.model_validate(state.payload)


async def save_session(botpress: BotpressClient, bp_conversation_id: str, record: SessionRecord) -> None:
    """Store the conversation's session record."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.set_state("conversation", bp_conversation_id, SESSION_STATE, payload)


async def load_start(botpress: BotpressClient, bp_user_id: str) -> StartRecord | None:
    """The user's last startHitl attempt, or ``None``."""
    state = await botpress.get_state("user", bp_user_id, START_STATE)
    if state is None or not state.payload:
        return None
    return StartRecord.model_validate(state.payload)


async def save_start(botpress: BotpressClient, bp_user_id: str, record: StartRecord) -> None:
    """Remember a startHitl attempt for a day (long enough for any runtime retry)."""
    payload = record.model_dump(by_alias=True, exclude_none=True)
    await botpress.set_state("user", bp_user_id, START_STATE, payload, expiry_ms=START_RECORD_EXPIRY_MS)
