"""Inputs and outputs of the hitl actions, and the ``messageHistory`` element."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from .messages import PAYLOAD_MODELS, AnyPayload, MessageType


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class UserSource(_Model):
    type: Literal["user"]
    user_id: str = Field(alias="userId")


class BotSource(_Model):
    type: Literal["bot"]


MessageSource = Annotated[UserSource | BotSource, Field(discriminator="type")]


class HistoryMessage(_Model):
    """One element of ``startHitl.input.messageHistory``: a message of any of the 12 types."""

    source: MessageSource
    type: MessageType
    payload: AnyPayload

    @model_validator(mode="before")
    @classmethod
    def _payload_by_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("type"), str) and data["type"] in PAYLOAD_MODELS:
            payload = data.get("payload")
            if isinstance(payload, dict):
                return {**data, "payload": PAYLOAD_MODELS[data["type"]].model_validate(payload)}
        return data


class CreateUserInput(_Model):
    name: str
    picture_url: str | None = Field(default=None, alias="pictureUrl")
    email: str | None = None


class CreateUserOutput(_Model):
    user_id: str = Field(alias="userId")


class StartHitlInput(_Model):
    user_id: str = Field(alias="userId", description="ID of the Botpress user representing the end user")
    title: str | None = Field(default=None, description="Title of the HITL session.")
    description: str | None = Field(default=None, description="Description of the HITL session.")
    hitl_session: dict[str, JsonValue] | None = Field(default=None, alias="hitlSession")
    message_history: list[HistoryMessage] = Field(alias="messageHistory")


class StartHitlOutput(_Model):
    conversation_id: str = Field(alias="conversationId")


class StopHitlInput(_Model):
    conversation_id: str = Field(alias="conversationId")


class StopHitlOutput(_Model):
    pass
