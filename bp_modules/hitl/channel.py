"""Payloads of the ``hitl`` channel: the six default types, each with ``userId`` and ``additionalData``.

The HITL plugin sends ``payload = {type, ...payload, userId}``: the ``type`` key is not part of the schema,
so it is dropped like any unknown key (see :mod:`bp_modules.hitl._base`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from ._base import WireModel
from .messages import (
    MAX_ADDITIONAL_DATA_SIZE,
    AudioPayload,
    BlocPayload,
    FilePayload,
    HitlMessageType,
    ImagePayload,
    TextPayload,
    VideoPayload,
)


class _HitlSpecific(WireModel):
    user_id: str | None = Field(
        default=None, alias="userId", description="Allows sending a message pretending to be a certain user"
    )
    additional_data: str | None = Field(
        default=None,
        alias="additionalData",
        max_length=MAX_ADDITIONAL_DATA_SIZE,
        description=(
            "Additional data to send with the message, useful for custom integrations. Must be encoded in a string."
        ),
    )

    message_type: ClassVar[HitlMessageType]


class HitlText(TextPayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "text"


class HitlImage(ImagePayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "image"


class HitlAudio(AudioPayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "audio"


class HitlVideo(VideoPayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "video"


class HitlFile(FilePayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "file"


class HitlBloc(BlocPayload, _HitlSpecific):
    message_type: ClassVar[HitlMessageType] = "bloc"


HitlMessage = HitlText | HitlImage | HitlAudio | HitlVideo | HitlFile | HitlBloc

HITL_PAYLOAD_MODELS: dict[HitlMessageType, type[HitlMessage]] = {
    "text": HitlText,
    "image": HitlImage,
    "audio": HitlAudio,
    "video": HitlVideo,
    "file": HitlFile,
    "bloc": HitlBloc,
}


def parse_hitl_payload(message_type: str, payload: Any) -> HitlMessage:
    """Validate a hitl channel payload of the given type.

    Raises:
        KeyError: the type is not one of the six hitl message types.
        pydantic.ValidationError: the payload does not match the type's schema.
    """
    model = HITL_PAYLOAD_MODELS[message_type]  # type: ignore[index]
    return model.model_validate(payload)
