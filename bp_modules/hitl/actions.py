"""Inputs and outputs of the hitl actions, and the ``messageHistory`` element."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, GetJsonSchemaHandler, JsonValue, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from ._base import WireModel, validate_nested
from .events import BP_CONVERSATION_ID
from .messages import PAYLOAD_MODELS, AnyPayload, MessageType

BP_END_USER_ID = "ID of the Botpress user representing the end user"


class UserSource(WireModel):
    type: Literal["user"]
    user_id: str = Field(alias="userId")


class BotSource(WireModel):
    type: Literal["bot"]


MessageSource = Annotated[UserSource | BotSource, Field(discriminator="type")]


class HistoryMessage(WireModel):
    """One element of ``startHitl.input.messageHistory``: a message of any of the 12 types."""

    source: MessageSource
    type: MessageType
    payload: AnyPayload

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_by_type(cls, payload: Any, info: ValidationInfo) -> Any:
        # The payload's schema is chosen by the sibling `type`, which is validated first.
        message_type = info.data.get("type")
        if message_type is None:
            raise PydanticCustomError("payload_unchecked", "Not checked: the message type is invalid")
        model = PAYLOAD_MODELS[message_type]
        if type(payload) is model:
            return payload
        return validate_nested(model, payload, info)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """One ``anyOf`` branch per message type, each tying ``type`` to its payload (as Botpress declares it)."""
        plain = handler.resolve_ref_schema(handler(schema))
        branches = [
            {
                **plain,
                "properties": {
                    **plain["properties"],
                    "type": {"type": "string", "const": message_type},
                    "payload": handler(model.__pydantic_core_schema__),
                },
            }
            for message_type, model in PAYLOAD_MODELS.items()
        ]
        return {"anyOf": branches}


class CreateUserInput(WireModel):
    name: str = Field(description="Display name of the end user")
    picture_url: str | None = Field(default=None, alias="pictureUrl", description="URL of the end user's avatar")
    email: str | None = Field(default=None, description="Email address of the end user")


class CreateUserOutput(WireModel):
    user_id: str = Field(alias="userId", description=BP_END_USER_ID)


class StartHitlInput(WireModel):
    user_id: str = Field(alias="userId", description=BP_END_USER_ID)
    title: str | None = Field(default=None, description="Title of the HITL session.")
    description: str | None = Field(default=None, description="Description of the HITL session.")
    hitl_session: dict[str, JsonValue] | None = Field(default=None, alias="hitlSession")
    message_history: list[HistoryMessage] = Field(
        alias="messageHistory", description="History of all messages in the conversation up to this point."
    )


class StartHitlOutput(WireModel):
    conversation_id: str = Field(alias="conversationId", description=BP_CONVERSATION_ID)


class StopHitlInput(WireModel):
    conversation_id: str = Field(alias="conversationId", description=BP_CONVERSATION_ID)


class StopHitlOutput(WireModel):
    pass
