"""A hitl channel message as the pieces every helpdesk posts: texts and media references, in order.

Each adapter renders the pieces its own way (Zendesk: one comment with attachments; Slack: mrkdwn messages and
files in the thread); which payload holds which text or URL, and how a location reads, is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bp_modules.hitl import (
    AudioItem,
    FileItem,
    HitlAudio,
    HitlBloc,
    HitlFile,
    HitlImage,
    HitlMessage,
    HitlText,
    HitlVideo,
    ImageItem,
    LocationItem,
    MarkdownItem,
    TextItem,
    VideoItem,
)


@dataclass(frozen=True)
class TextPiece:
    """A text; ``markdown`` when Botpress wrote it as markdown (a hitl text, a markdown item), else plain."""

    text: str
    markdown: bool


@dataclass(frozen=True)
class MediaPiece:
    """An end user's image, audio, video or file (``kind``), by URL, with its optional title."""

    kind: str
    url: str
    title: str | None


Piece = TextPiece | MediaPiece


def pieces_of(message: HitlMessage) -> list[Piece]:
    """The pieces of ``message`` in order: one for a text or a media message, one per item of a bloc."""
    if isinstance(message, HitlText):
        return [TextPiece(message.text, markdown=True)]
    if isinstance(message, HitlBloc):
        return [_bloc_piece(item) for item in message.items]
    return [_media(message)]


def _media(message: HitlMessage) -> MediaPiece:
    if isinstance(message, HitlImage):
        return MediaPiece("image", message.image_url, message.title)
    if isinstance(message, HitlAudio):
        return MediaPiece("audio", message.audio_url, message.title)
    if isinstance(message, HitlVideo):
        return MediaPiece("video", message.video_url, message.title)
    assert isinstance(message, HitlFile)
    return MediaPiece("file", message.file_url, message.title)


def _bloc_piece(item: object) -> Piece:
    if isinstance(item, TextItem):
        return TextPiece(item.payload.text, markdown=False)
    if isinstance(item, MarkdownItem):
        return TextPiece(item.payload.markdown, markdown=True)
    if isinstance(item, ImageItem):
        return MediaPiece("image", item.payload.image_url, item.payload.title)
    if isinstance(item, AudioItem):
        return MediaPiece("audio", item.payload.audio_url, item.payload.title)
    if isinstance(item, VideoItem):
        return MediaPiece("video", item.payload.video_url, item.payload.title)
    if isinstance(item, FileItem):
        return MediaPiece("file", item.payload.file_url, item.payload.title)
    assert isinstance(item, LocationItem)
    where = ", ".join(part for part in (item.payload.title, item.payload.address) if part)
    coordinates = f"{item.payload.latitude}, {item.payload.longitude}"
    return TextPiece(f"Location: {where} ({coordinates})" if where else f"Location: {coordinates}", markdown=False)
