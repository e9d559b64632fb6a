"""Configuration of the emulated HITL plugin: its texts (``"NULL"`` suppresses one), close command and timeout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

NULL_MESSAGE = "NULL"

TextField = Literal[
    "on_hitl_handoff_message",
    "on_human_agent_assigned_message",
    "on_hitl_stopped_message",
    "on_user_hitl_cancelled_message",
    "on_incompatible_msg_type_message",
    "on_user_hitl_close_message",
    "on_agent_assigned_timeout_message",
]

DEFAULT_TEXTS: dict[str, str] = {
    "on_hitl_handoff_message": (
        "I have escalated this conversation to a human agent. They should be with you shortly."
    ),
    "on_human_agent_assigned_message": "A human agent has joined the conversation.",
    "on_hitl_stopped_message": "The human agent closed the conversation. I will continue assisting you.",
    "on_user_hitl_cancelled_message": "( The user has ended the session. )",
    "on_incompatible_msg_type_message": (
        "Sorry, the user can not receive this type of message. Please resend your message as a text message."
    ),
    "on_user_hitl_close_message": "You have ended the session with the human agent. I will continue assisting you.",
    "on_agent_assigned_timeout_message": (
        "No human agent is available at the moment. Please try again later. "
        "I will continue assisting you for the time being."
    ),
}
DEFAULT_CLOSE_COMMAND = "/end"


class PluginConfig(BaseModel):
    """The plugin's configuration (camelCase names as in Botpress); unset or empty texts take the defaults."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    on_hitl_handoff_message: str | None = None
    on_human_agent_assigned_message: str | None = None
    on_hitl_stopped_message: str | None = None
    on_user_hitl_cancelled_message: str | None = None
    on_incompatible_msg_type_message: str | None = None
    on_user_hitl_close_message: str | None = None
    on_agent_assigned_timeout_message: str | None = None
    user_hitl_close_command: str | None = None
    agent_assigned_timeout_seconds: float = Field(default=0, ge=0)
    flow_on_hitl_stopped: bool = True

    def text(self, field: TextField) -> str | None:
        """The text to send, or ``None`` when it is ``"NULL"`` (suppressed)."""
        value: str | None = getattr(self, field)
        if value == NULL_MESSAGE:
            return None
        return value or DEFAULT_TEXTS[field]

    @property
    def close_command(self) -> str:
        """The command that ends a session, lower-cased (an empty setting means ``/end``)."""
        return (self.user_hitl_close_command or DEFAULT_CLOSE_COMMAND).strip().lower()

    def merged(self, overrides: Mapping[str, Any] | None) -> PluginConfig:
        """This configuration with a session's ``configurationOverrides`` applied."""
        if not overrides:
            return self
        return PluginConfig.model_validate({**self.model_dump(by_alias=True), **overrides})
