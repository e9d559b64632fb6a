"""Vendor-neutral events that adapters parse out of helpdesk webhooks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bp_modules.hitl import HitlMessage


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_session_id: str = Field(description="The helpdesk's id of the session (ticket, thread...)")
    dedupe_key: str | None = Field(
        default=None,
        description="Stable id of this occurrence (invocation id, comment id...): a redelivery carries the same key",
    )


class AgentProfile(BaseModel):
    """A human agent as the helpdesk knows them."""

    model_config = ConfigDict(frozen=True)

    external_user_id: str
    name: str | None = None
    email: str | None = None
    picture_url: str | None = None


class AgentMessage(_Event):
    """An agent wrote to the end user. ``message`` is one hitl channel payload."""

    kind: Literal["agent_message"] = "agent_message"
    external_message_id: str
    agent: AgentProfile
    message: HitlMessage


class AgentAssigned(_Event):
    """An agent took the session."""

    kind: Literal["agent_assigned"] = "agent_assigned"
    agent: AgentProfile


class SessionClosed(_Event):
    """The session ended on the helpdesk side (solved, closed, timed out...)."""

    kind: Literal["session_closed"] = "session_closed"
    reason: str | None = None


InboundEvent = AgentMessage | AgentAssigned | SessionClosed
