"""hitl channel messages as Zendesk comments, and the per-ticket outbox that coalesces bursts.

Zendesk allows about 30 updates per 10 minutes per ticket and user. While one update waits on a
429, the messages queued behind it for the same ticket are merged into one comment instead of
each spending an update; media comments are never merged.

Across processes, each batch is delivered under the ticket's lock of the coordination port (the ``guard``), so
two workers never update one ticket at once and a ticket's comments keep the order their deliveries took the
lock in. Messages queued in this process while another worker holds the lock are coalesced as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bp_modules.hitl import HitlMessage

from ..hitl_parts import MediaPiece, pieces_of

MAX_COALESCED_CHARS = 30_000
MAX_COALESCED_MESSAGES = 50
"""Bounds the message ids one comment's audit metadata carries."""
Uploader = Callable[[str, str, str | None], Awaitable[str | None]]
"""``(kind, url, title) -> upload token``, or ``None`` when the media could not be attached."""


@dataclass(frozen=True)
class OutgoingComment:
    """What one Zendesk comment will carry, and which Botpress messages it delivers."""

    author_id: int
    body: str
    uploads: tuple[str, ...] = ()
    bp_message_ids: tuple[str, ...] = ()

    def merges_with(self, other: OutgoingComment) -> bool:
        """Whether ``other`` can be appended to this comment (same author, text only, size bounds)."""
        return (
            not self.uploads
            and not other.uploads
            and self.author_id == other.author_id
            and len(self.body) + len(other.body) < MAX_COALESCED_CHARS
            and len(self.bp_message_ids) + len(other.bp_message_ids) <= MAX_COALESCED_MESSAGES
        )


async def compose(message: HitlMessage, author_id: int, upload: Uploader, bp_message_id: str) -> OutgoingComment:
    """Turn one hitl message (a bloc included) into one comment: texts joined, media uploaded."""
    lines: list[str] = []
    tokens: list[str] = []
    for kind, value, title in _parts(message):
        if kind == "text":
            lines.append(value)
            continue
        token = await upload(kind, value, title)
        if token is None:
            lines.append(f"[{kind.capitalize()}{f': {title}' if title else ''}] {value}")
        else:
            tokens.append(token)
            lines.append(f"[{kind.capitalize()} attached{f': {title}' if title else ''}]")
    body = "\n\n".join(lines) or "(empty message)"
    return OutgoingComment(author_id=author_id, body=body, uploads=tuple(tokens), bp_message_ids=(bp_message_id,))


def _parts(message: HitlMessage) -> list[tuple[str, str, str | None]]:
    """``(kind, text or url, title)`` triples; kind is text, image, audio, video or file (markdown stays as is)."""
    return [
        (piece.kind, piece.url, piece.title) if isinstance(piece, MediaPiece) else ("text", piece.text, None)
        for piece in pieces_of(message)
    ]


Deliver = Callable[[int, OutgoingComment], Awaitable[str]]
Guard = Callable[[int], AbstractAsyncContextManager[None]]
"""``guard(zendesk_ticket_id)``: held around each delivery to that ticket (the coordinator's lock of the ticket)."""


@dataclass(eq=False)
class _Pending:
    comment: OutgoingComment
    future: asyncio.Future[str]


@dataclass(eq=False)
class _TicketQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: list[_Pending] = field(default_factory=list)
    users: int = 0


class Outbox:
    """Serialises updates per ticket; text comments queued behind a slow update are sent as one."""

    def __init__(self) -> None:
        self._queues: dict[int, _TicketQueue] = {}

    async def submit(self, ticket_id: int, comment: OutgoingComment, deliver: Deliver, guard: Guard) -> str:
        """Deliver ``comment`` (maybe merged with its neighbours) under ``guard``; return the Zendesk comment id.

        The batch is taken once the guard is held, so what queued up while another worker held it goes along.
        """
        queue = self._queues.setdefault(ticket_id, _TicketQueue())
        item = _Pending(comment, asyncio.get_running_loop().create_future())
        queue.pending.append(item)
        queue.users += 1
        try:
            async with queue.lock:
                while not item.future.done():
                    async with guard(ticket_id):
                        await _deliver_batch(ticket_id, _take_batch(queue.pending), deliver)
        finally:
            queue.users -= 1
            if item in queue.pending:
                queue.pending.remove(item)
            if queue.users == 0:
                self._queues.pop(ticket_id, None)
        return await item.future


def _take_batch(pending: list[_Pending]) -> list[_Pending]:
    batch = [pending.pop(0)]
    merged = batch[0].comment
    while pending and merged.merges_with(pending[0].comment):
        merged = _merge(merged, pending[0].comment)
        batch.append(pending.pop(0))
    return batch


def _merge(first: OutgoingComment, second: OutgoingComment) -> OutgoingComment:
    return OutgoingComment(
        author_id=first.author_id,
        body=f"{first.body}\n\n{second.body}",
        bp_message_ids=first.bp_message_ids + second.bp_message_ids,
    )


async def _deliver_batch(ticket_id: int, batch: list[_Pending], deliver: Deliver) -> None:
    merged = batch[0].comment
    for item in batch[1:]:
        merged = _merge(merged, item.comment)
    try:
        comment_id = await deliver(ticket_id, merged)
    except Exception as exc:
        for item in batch:
            item.future.set_exception(exc)
        return
    for item in batch:
        item.future.set_result(comment_id)
