"""End-user messages into the thread: each hitl message as one or more Slack messages ("parts"), each posted once.

A message becomes parts, in order (:func:`compose`): a text (markdown → mrkdwn) is one message with section
blocks (more than one only past Slack's per-message limits); an image, audio, video or file is a real Slack file
shared in the thread; a bloc is one message with its text items in order, then its media items as files. Each part
is posted under its own journal key (``slack:msg:<integration id>:<bp message id>:<part>``, :func:`.posts.once`),
so a retried ``send_message`` after a partial delivery posts only what is missing. An end user's file is fetched
within bounds (:mod:`external_adapters.media_download`; refused, too large or too slow: posted as a link), then
uploaded in three calls: ``files.getUploadURLExternal``, a POST of the bytes to its ``upload_url``, and
``files.completeUploadExternal`` (``channel_id``, ``thread_ts``), the only one that posts.

Finding a part again (after a lost answer, a crash, or for ``find_message``): a text part by its metadata
``hitl_bridge_message`` ``{"bp_message_id", "part"}`` among the thread's replies; a file part by the Slack file id
remembered (in the coordination memo) before its ``files.completeUploadExternal``, among the files the replies
share. ``send_message`` returns the first part's ``ts``; for a file part that is the ``ts`` of the message sharing
the file (from ``completeUploadExternal``'s ``files[].shares``, else read back from the thread), or
``file:<file id>`` when Slack has not shared it yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bp_modules.hitl import HitlMessage
from coordination import Coordinator

from ..base import OutboundMessage
from ..errors import ExternalRequestError
from ..hitl_parts import MediaPiece, TextPiece, pieces_of
from ..media_download import DownloadRules, MediaUnavailable, download
from .blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS, Block, context, fallback, pack, section, sections_of
from .client import SlackClient
from .models import MESSAGE_EVENT, Message
from .mrkdwn import escape, to_mrkdwn
from .posts import file_ts, marked_ts, once, shared_ts

log = logging.getLogger(__name__)
FILE_MEMO_SECONDS = 30 * 24 * 3600.0
MAX_USERNAME = 80
# One block goes to the author line; the fallback text and the author count in the message's characters.
TEXT_BLOCKS = MAX_BLOCKS - 1
TEXT_CHARS = MAX_MESSAGE_CHARS - 1000


@dataclass(frozen=True)
class TextPart:
    """One Slack message of section texts (mrkdwn)."""

    sections: tuple[str, ...]


FilePart = MediaPiece
"""One file to upload into the thread."""


Part = TextPart | FilePart


def compose(message: HitlMessage) -> list[Part]:
    """The parts of ``message``, in order: its texts (packed into messages), then its files (module docstring)."""
    pieces = pieces_of(message)
    texts = [_mrkdwn(piece) for piece in pieces if isinstance(piece, TextPiece)]
    return _texts(texts) + [piece for piece in pieces if isinstance(piece, FilePart)]


def _mrkdwn(piece: TextPiece) -> str:
    return to_mrkdwn(piece.text) if piece.markdown else escape(piece.text)


def _texts(mrkdwns: Sequence[str]) -> list[Part]:
    pieces = [piece for text in mrkdwns for piece in sections_of(text)]
    return [TextPart(tuple(group)) for group in pack(pieces, max_blocks=TEXT_BLOCKS, max_chars=TEXT_CHARS)]


@dataclass(frozen=True)
class Sender:
    """What posting into one installation's threads needs."""

    client: SlackClient
    coordinator: Coordinator
    integration_id: str
    http: httpx.AsyncClient
    rules: DownloadRules
    post_as_end_user: bool

    def key(self, bp_message_id: str, part: int) -> str:
        """The journal key (and lock) of one part of one message."""
        return f"slack:msg:{self.integration_id}:{bp_message_id}:{part}"

    def file_key(self, bp_message_id: str, part: int) -> str:
        """The memo of the Slack file id a file part uploads."""
        return f"slack:file:{self.integration_id}:{bp_message_id}:{part}"


@dataclass(frozen=True)
class Thread:
    """Where a session's messages go."""

    channel_id: str
    parent_ts: str


async def deliver(sender: Sender, thread: Thread, request: OutboundMessage) -> str:
    """Post every part of ``request`` not yet posted, in order; return the first part's ``ts``."""
    made = [await _deliver_part(sender, thread, request, n, part) for n, part in enumerate(compose(request.message))]
    return made[0]


async def _deliver_part(sender: Sender, thread: Thread, request: OutboundMessage, n: int, part: Part) -> str:
    async def find() -> str | None:
        return await find_part(sender, thread, request.bp_message_id, n, part, await _replies(sender, thread))

    async def post() -> str:
        if isinstance(part, TextPart):
            return await _post_text(sender, thread, request, n, part.sections)
        return await _post_file(sender, thread, request, n, part)

    return await once(sender.coordinator, sender.key(request.bp_message_id, n), post, find, look_first=False)


async def _replies(sender: Sender, thread: Thread) -> list[Message]:
    return await sender.client.thread(thread.channel_id, thread.parent_ts)


async def find_part(
    sender: Sender, thread: Thread, bp_message_id: str, n: int, part: Part, messages: Sequence[Message]
) -> str | None:
    """The ``ts`` of part ``n`` of the message among the thread's ``messages``, or ``None``."""
    found = marked_ts(messages, MESSAGE_EVENT, bp_message_id=bp_message_id, part=n)
    if found is not None or isinstance(part, TextPart):
        return found
    file_id = await sender.coordinator.memo_get(sender.file_key(bp_message_id, n))
    return file_ts(messages, file_id) if file_id else None


async def find_delivered(sender: Sender, thread: Thread, request: OutboundMessage) -> str | None:
    """The first part's ``ts`` when every part of ``request`` is in the thread, else ``None`` (a partial delivery
    is completed by the next ``send_message``, which posts only the missing parts)."""
    messages = await _replies(sender, thread)
    found = [
        await find_part(sender, thread, request.bp_message_id, n, part, messages)
        for n, part in enumerate(compose(request.message))
    ]
    return found[0] if found and all(found) else None


def _author(sender: Sender, request: OutboundMessage) -> dict[str, Any]:
    """``username``/``icon_url`` of the end user (``postAsEndUser``, scope ``chat:write.customize``)."""
    author = request.author
    if not sender.post_as_end_user or request.author_external_id is None or author is None or not author.name:
        return {}
    shown: dict[str, Any] = {"username": author.name[:MAX_USERNAME]}
    if author.picture_url and author.picture_url.startswith(("https://", "http://")):
        shown["icon_url"] = author.picture_url
    return shown


def _author_line(sender: Sender, request: OutboundMessage) -> list[Block]:
    """Without ``postAsEndUser``, the bot posts: an author line says whose message it is."""
    name = request.author.name if request.author else None
    if _author(sender, request) or not name:
        return []
    return [context(f"*{escape(name)}*")]


async def _post_text(sender: Sender, thread: Thread, request: OutboundMessage, n: int, pieces: Sequence[str]) -> str:
    blocks = _author_line(sender, request) + [section(piece) for piece in pieces]
    body: dict[str, Any] = {
        "channel": thread.channel_id,
        "thread_ts": thread.parent_ts,
        "text": fallback(" ".join(pieces)),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
        "metadata": {"event_type": MESSAGE_EVENT, "event_payload": {"bp_message_id": request.bp_message_id, "part": n}},
        **_author(sender, request),
    }
    return (await sender.client.post_message(body)).ts


async def _post_file(sender: Sender, thread: Thread, request: OutboundMessage, n: int, part: FilePart) -> str:
    try:
        media = await download(sender.http, part.url, kind=part.kind, title=part.title, rules=sender.rules)
        return await _upload(sender, thread, request, n, part, media.filename, media.content, media.content_type)
    except MediaUnavailable as exc:
        log.warning("slack: sending a %s as a link: %s", part.kind, exc)
    except ExternalRequestError as exc:
        log.warning("slack: upload refused, sending the %s as a link: %s", part.kind, exc)
    return await _post_text(sender, thread, request, n, [_link_text(part)])


def _link_text(part: FilePart) -> str:
    label = escape(part.title or part.kind)
    url = part.url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"{part.kind.capitalize()}: <{url}|{label}>"


async def _upload(
    sender: Sender,
    thread: Thread,
    request: OutboundMessage,
    n: int,
    part: FilePart,
    filename: str,
    content: bytes,
    content_type: str,
) -> str:
    """Upload and share one file. The file id is remembered before the share, so that a lost answer or a crash
    after it finds the share among the thread's files instead of sharing the file again."""
    client = sender.client
    ticket = await client.get_upload_url(filename, len(content))
    await sender.coordinator.memo_set(sender.file_key(request.bp_message_id, n), ticket.file_id, FILE_MEMO_SECONDS)
    await client.upload_bytes(ticket.upload_url, content, content_type)
    comment = _file_comment(request, part)
    # Not idempotent: a lost answer raises OutcomeUnknownError, and the caller's check (find_part) looks for this
    # file id among the thread's files before uploading again.
    files = await client.complete_upload(ticket.file_id, part.title or filename, *_where(thread), comment)
    return (
        shared_ts(files, thread.channel_id)
        or file_ts(await _replies(sender, thread), ticket.file_id)
        or (f"file:{ticket.file_id}")
    )


def _where(thread: Thread) -> tuple[str, str]:
    return thread.channel_id, thread.parent_ts


def _file_comment(request: OutboundMessage, part: FilePart) -> str:
    """``Jane Doe sent an image: A cat`` (files are shared by the bot: the comment says whose they are)."""
    name = request.author.name if request.author and request.author_external_id else None
    what = f"a{'n' if part.kind[0] in 'aeiou' else ''} {part.kind}" + (f": {part.title}" if part.title else "")
    return escape(f"{name} sent {what}" if name else what[0].upper() + what[1:])
