"""Payloads of the events a hitl integration emits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HitlAssigned(BaseModel):
    """A human agent was assigned to the session."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    conversation_id: str = Field(alias="conversationId")
    user_id: str = Field(alias="userId", description="Botpress user representing the human agent")


class HitlStopped(BaseModel):
    """The session ended on the helpdesk side."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    conversation_id: str = Field(alias="conversationId")
