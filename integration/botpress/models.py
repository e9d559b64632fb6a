"""Typed views of the Runtime API objects (api 1.70.2 ``components.schemas``).

Field names are snake_case in Python and camelCase on the wire. Unknown fields are ignored because the
live API adds fields the 1.70.2 description does not list (``messageCount``, ``properties``...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

StateType = Literal["conversation", "user", "bot", "integration", "task", "workflow"]
MessageDirection = Literal["incoming", "outgoing"]


class BotpressModel(BaseModel):
    """Base of the Runtime API objects: camelCase aliases, extra fields ignored, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class User(BotpressModel):
    """A Botpress user: an end user, or an agent mirrored from the helpdesk."""

    id: str
    created_at: datetime
    updated_at: datetime
    tags: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    picture_url: str | None = None


class Conversation(BotpressModel):
    """A Botpress conversation on one channel of one integration."""

    id: str
    created_at: datetime
    updated_at: datetime
    channel: str
    integration: str
    tags: dict[str, str] = Field(default_factory=dict)
    current_task_id: str | None = None
    current_workflow_id: str | None = None


class Message(BotpressModel):
    """A Botpress message; its ``payload`` shape depends on ``type``."""

    id: str
    created_at: datetime
    updated_at: datetime
    type: str
    payload: dict[str, Any]
    direction: MessageDirection
    user_id: str
    conversation_id: str
    tags: dict[str, str] = Field(default_factory=dict)
    origin: str | None = None


class Event(BotpressModel):
    """A Botpress event, e.g. ``hitlAssigned`` or ``hitlStopped``."""

    id: str
    created_at: datetime
    type: str
    payload: dict[str, Any]
    conversation_id: str | None = None
    user_id: str | None = None
    message_id: str | None = None
    status: str
    failure_reason: str | None = None


class State(BotpressModel):
    """A named state attached to a bot, user, conversation, integration, task or workflow."""

    id: str
    created_at: datetime
    updated_at: datetime
    bot_id: str
    conversation_id: str | None = None
    user_id: str | None = None
    name: str
    type: str
    payload: dict[str, Any] | None = None
