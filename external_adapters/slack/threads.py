"""A handoff's thread: opened (the parent, then the transcript's overflow), and closed from the bot.

Opening posts the parent message (:mod:`.parent`: title, description, priority and tags from the card, the
``mention``, the Claim and Close buttons, and the transcript's first sections), then what of the transcript does
not fit as replies in the thread, each part once. Every post is made through :func:`.posts.once`:

* the parent under ``slack:open:<integration id>:<idempotency key>``, with metadata ``hitl_bridge_session``
  ``{"key"}``, looked up in the channel's history after a lost answer or a crash (and first, unless the key is new);
* each overflow part under ``slack:transcript:<integration id>:<key>:<part>``, with metadata
  ``hitl_bridge_transcript`` ``{"key", "part"}``, looked up in the thread's replies;
* the closing notice under ``slack:close:<integration id>:<session id>``, with metadata ``hitl_bridge_notice``.

The session record (:mod:`.sessions`) is stored after the parent exists, by an idempotent change, so a repeat
after a crash stores it then.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from ..base import OpenSessionRequest, SessionDataStore
from ..errors import ExternalNotFoundError
from .blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS, context, fallback, pack, section, sections_of
from .config import SlackSession
from .models import NOTICE_EVENT, SESSION_EVENT, TRANSCRIPT_EVENT
from .mrkdwn import to_mrkdwn
from .outbound import Sender
from .parent import ParentState, render_parent
from .posts import find_parent, marked_ts, once
from .sessions import closing, opened, session_id

PARENT_TRANSCRIPT_CHARS = 12_000
"""How much of the transcript the parent shows (the rest goes in the thread): the parent stays readable, and its
record (drawn again on each claim and close) small."""
PARENT_TRANSCRIPT_BLOCKS = 30
REPLY_BLOCKS = MAX_BLOCKS - 1  # one block is the "part n" line
REPLY_CHARS = MAX_MESSAGE_CHARS - 1000  # the fallback text and the part line count too
CLOSED_NOTICE = "The conversation was closed from the bot."


@dataclass(frozen=True)
class Opening:
    """Where and how one handoff is opened."""

    channel_id: str
    mention: str | None


def transcript_parts(markdown: str) -> tuple[list[str], list[list[str]]]:
    """The transcript (markdown) as the parent's sections and the overflow replies' sections, within the limits."""
    pieces = sections_of(to_mrkdwn(markdown))
    head: list[str] = []
    size = 0
    while pieces and len(head) < PARENT_TRANSCRIPT_BLOCKS and size + len(pieces[0]) <= PARENT_TRANSCRIPT_CHARS:
        size += len(pieces[0])
        head.append(pieces.pop(0))
    return head, pack(pieces, max_blocks=REPLY_BLOCKS, max_chars=REPLY_CHARS)


def parent_record(
    request: OpenSessionRequest[SlackSession], opening: Opening, head: list[str], more: bool
) -> dict[str, JsonValue]:
    """The session record of a handoff before its parent is posted (``parent_ts`` is added after)."""
    return {
        "channel_id": opening.channel_id,
        "title": request.title,
        "description": request.description,
        "priority": request.options.priority,
        "tags": list(request.options.tags),
        "mention": opening.mention,
        "transcript_head": list(head),
        "transcript_more": more,
        "claimed_by": None,
        "claimed_by_name": None,
        "closed": False,
    }


async def open_thread(
    sender: Sender, sessions: SessionDataStore, opening: Opening, request: OpenSessionRequest[SlackSession]
) -> str:
    """Post the parent and the transcript's overflow, each once; store the session; return its id."""
    head, overflow = transcript_parts(request.transcript.markdown)
    record = parent_record(request, opening, head, bool(overflow))
    key = request.idempotency_key
    look_first = not request.new_key

    async def find() -> str | None:
        return await find_parent(sender.client, opening.channel_id, SESSION_EVENT, key=key)

    async def post() -> str:
        # The buttons carry the session id, known once the parent has its ts: the edit that follows adds them.
        text, blocks = render_parent(ParentState.from_record("", record))
        return await _post(sender, opening.channel_id, None, text, blocks, SESSION_EVENT, {"key": key})

    parent_ts = await once(sender.coordinator, _key(sender, "open", key), post, find, look_first=look_first)
    sid = session_id(opening.channel_id, parent_ts)
    stored = await sessions.update(sid, opened({**record, "parent_ts": parent_ts}))
    await show_parent(sender, sid, stored or record)
    for n, part in enumerate(overflow, start=1):
        await _post_transcript(sender, opening.channel_id, parent_ts, key, n, part, look_first)
    return sid


async def show_parent(sender: Sender, sid: str, record: dict[str, JsonValue]) -> None:
    """Edit the parent to what ``record`` says (``chat.update``: idempotent); a deleted parent is left alone."""
    channel_id, parent_ts = record.get("channel_id"), record.get("parent_ts")
    if not isinstance(channel_id, str) or not isinstance(parent_ts, str):
        return
    text, blocks = render_parent(ParentState.from_record(sid, record))
    try:
        await sender.client.update_message(channel_id, parent_ts, text, blocks)
    except ExternalNotFoundError:
        return


async def _post_transcript(
    sender: Sender, channel_id: str, parent_ts: str, key: str, n: int, pieces: list[str], look_first: bool
) -> str:
    async def find() -> str | None:
        messages = await sender.client.thread(channel_id, parent_ts)
        return marked_ts(messages, TRANSCRIPT_EVENT, key=key, part=n)

    async def post() -> str:
        blocks = [context(f"_The conversation so far, part {n + 1}_")] + [section(piece) for piece in pieces]
        return await _post(
            sender, channel_id, parent_ts, fallback(" ".join(pieces)), blocks, TRANSCRIPT_EVENT, {"key": key, "part": n}
        )

    return await once(sender.coordinator, _key(sender, "transcript", f"{key}:{n}"), post, find, look_first=look_first)


async def close_thread(sender: Sender, sessions: SessionDataStore, sid: str) -> None:
    """Post the closing notice once, show the parent closed, and record it; a closed or missing session is left."""
    record = await sessions.get(sid)
    if record is None or record.get("closed") is True:
        return
    channel_id, parent_ts = str(record.get("channel_id")), str(record.get("parent_ts"))

    async def find() -> str | None:
        messages = await sender.client.thread(channel_id, parent_ts)
        return marked_ts(messages, NOTICE_EVENT, kind="closed")

    async def post() -> str:
        blocks = [section(f":lock: {CLOSED_NOTICE}")]
        return await _post(sender, channel_id, parent_ts, CLOSED_NOTICE, blocks, NOTICE_EVENT, {"kind": "closed"})

    # A deleted parent (thread) has nothing to post in: the session is closed all the same.
    with contextlib.suppress(ExternalNotFoundError):
        await once(sender.coordinator, _key(sender, "close", sid), post, find, look_first=False)
    await show_parent(sender, sid, {**record, "closed": True})
    await sessions.update(sid, closing())


async def _post(
    sender: Sender,
    channel_id: str,
    thread_ts: str | None,
    text: str,
    blocks: list[dict[str, Any]],
    event_type: str,
    payload: dict[str, Any],
) -> str:
    body: dict[str, Any] = {
        "channel": channel_id,
        "text": text,
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
        "metadata": {"event_type": event_type, "event_payload": payload},
    }
    if thread_ts is not None:
        body["thread_ts"] = thread_ts
    return (await sender.client.post_message(body)).ts


def _key(sender: Sender, what: str, rest: str) -> str:
    return f"slack:{what}:{sender.integration_id}:{rest}"
