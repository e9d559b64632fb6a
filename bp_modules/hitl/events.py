"""Payloads of the events a hitl integration emits."""

from __future__ import annotations

from pydantic import Field

from ._base import WireModel

BP_CONVERSATION_ID = "ID of the Botpress conversation representing the HITL session"


class HitlAssigned(WireModel):
    """A human agent was assigned to the session."""

    conversation_id: str = Field(alias="conversationId", description=BP_CONVERSATION_ID)
    user_id: str = Field(
        alias="userId", description="ID of the Botpress user representing the human agent assigned to the HITL session"
    )


class HitlStopped(WireModel):
    """The session ended on the helpdesk side."""

    conversation_id: str = Field(alias="conversationId", description=BP_CONVERSATION_ID)
