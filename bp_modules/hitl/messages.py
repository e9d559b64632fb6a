"""Message payloads of the default Botpress message types, and the hitl channel's extensions.

Models drop unknown keys, as the SDK's zod schemas do at run time: the HITL plugin passes earlier
messages back with ``type`` and ``userId`` inside their payloads, and channels add keys of their own.
The generated JSON Schemas still say ``additionalProperties: false``, as Botpress's own do.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._base import WireModel

NonEmpty = Annotated[str, Field(min_length=1)]
# JSON numbers only: no numeric strings, no booleans (lax float would take "1.5" and true).
JsonNumber = Annotated[float, Field(strict=True)]
MAX_ADDITIONAL_DATA_SIZE = 500


class _Payload(WireModel):
    pass


class TextPayload(_Payload):
    text: NonEmpty


class MarkdownPayload(_Payload):
    markdown: NonEmpty


class ImagePayload(_Payload):
    image_url: NonEmpty = Field(alias="imageUrl")
    title: NonEmpty | None = None


class AudioPayload(_Payload):
    audio_url: NonEmpty = Field(alias="audioUrl")
    title: NonEmpty | None = None


class VideoPayload(_Payload):
    video_url: NonEmpty = Field(alias="videoUrl")
    title: NonEmpty | None = None


class FilePayload(_Payload):
    file_url: NonEmpty = Field(alias="fileUrl")
    title: NonEmpty | None = None


class LocationPayload(_Payload):
    latitude: JsonNumber
    longitude: JsonNumber
    address: str | None = None
    title: str | None = None


class CardAction(_Payload):
    action: Literal["postback", "url", "say"]
    label: NonEmpty
    value: NonEmpty


class CardPayload(_Payload):
    title: NonEmpty
    subtitle: NonEmpty | None = None
    image_url: NonEmpty | None = Field(default=None, alias="imageUrl")
    actions: list[CardAction]


class CarouselPayload(_Payload):
    items: list[CardPayload]


class ChoiceOption(_Payload):
    label: NonEmpty
    value: NonEmpty


class ChoicePayload(_Payload):
    text: NonEmpty
    options: list[ChoiceOption]


class DropdownPayload(ChoicePayload):
    pass


class TextItem(_Payload):
    type: Literal["text"]
    payload: TextPayload


class MarkdownItem(_Payload):
    type: Literal["markdown"]
    payload: MarkdownPayload


class ImageItem(_Payload):
    type: Literal["image"]
    payload: ImagePayload


class AudioItem(_Payload):
    type: Literal["audio"]
    payload: AudioPayload


class VideoItem(_Payload):
    type: Literal["video"]
    payload: VideoPayload


class FileItem(_Payload):
    type: Literal["file"]
    payload: FilePayload


class LocationItem(_Payload):
    type: Literal["location"]
    payload: LocationPayload


BlocItem = Annotated[
    TextItem | ImageItem | AudioItem | VideoItem | FileItem | LocationItem | MarkdownItem,
    Field(discriminator="type"),
]


class BlocPayload(_Payload):
    """The hitl ``bloc``: Botpress's ``markdownBloc`` (bloc items plus markdown items)."""

    items: list[BlocItem]


MessageType = Literal[
    "text", "image", "audio", "video", "file", "location", "carousel", "card", "dropdown", "choice", "bloc", "markdown"
]
HitlMessageType = Literal["text", "image", "audio", "video", "file", "bloc"]
HITL_MESSAGE_TYPES: tuple[HitlMessageType, ...] = ("text", "image", "audio", "video", "file", "bloc")

PAYLOAD_MODELS: dict[str, type[_Payload]] = {
    "text": TextPayload,
    "image": ImagePayload,
    "audio": AudioPayload,
    "video": VideoPayload,
    "file": FilePayload,
    "location": LocationPayload,
    "carousel": CarouselPayload,
    "card": CardPayload,
    "dropdown": DropdownPayload,
    "choice": ChoicePayload,
    "bloc": BlocPayload,
    "markdown": MarkdownPayload,
}

AnyPayload = (
    TextPayload
    | MarkdownPayload
    | ImagePayload
    | AudioPayload
    | VideoPayload
    | FilePayload
    | LocationPayload
    | CardPayload
    | CarouselPayload
    | ChoicePayload
    | DropdownPayload
    | BlocPayload
)
