"""The handoff's parent message in its three forms (open, claimed by someone, closed), from the session record.

One module draws it for every path that changes it: ``startHitl`` (open), a Claim click or the first agent reply
(claimed), a Close click or ``stopHitl`` (closed: no buttons). Block ids are stable, so an edit replaces the same
blocks; the buttons carry the session id as their value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import JsonValue
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from .blocks import Block, context, divider, fallback, header, section
from .mrkdwn import escape

CLAIM_ACTION = "hitl_claim"
CLOSE_ACTION = "hitl_close"
CLAIM_TEXT = "Claim"
CLOSE_TEXT = "Close"
DEFAULT_TITLE = "New handoff"
PRIORITY_MARKS = {
    "low": "Low",
    "normal": "Normal",
    "high": ":large_orange_circle: High",
    "urgent": ":red_circle: Urgent",
}


@dataclass(frozen=True)
class ParentState:
    """What the parent message shows; read from the session record (:mod:`.sessions`)."""

    session_id: str
    title: str | None = None
    description: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    mention: str | None = None
    transcript_head: tuple[str, ...] = ()
    """The transcript's first section texts (mrkdwn), shown in the parent."""
    transcript_more: bool = False
    """Whether the transcript goes on in the thread's first replies."""
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    closed: bool = False

    @classmethod
    def from_record(cls, session_id: str, record: Mapping[str, JsonValue]) -> ParentState:
        """The state stored for ``session_id`` (unknown keys ignored, missing ones default)."""
        tags = record.get("tags")
        head = record.get("transcript_head")
        return cls(
            session_id=session_id,
            title=_text(record.get("title")),
            description=_text(record.get("description")),
            priority=_text(record.get("priority")),
            tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
            mention=_text(record.get("mention")),
            transcript_head=tuple(str(part) for part in head) if isinstance(head, list) else (),
            transcript_more=record.get("transcript_more") is True,
            claimed_by=_text(record.get("claimed_by")),
            claimed_by_name=_text(record.get("claimed_by_name")),
            closed=record.get("closed") is True,
        )


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) and value else None


def render_parent(state: ParentState) -> tuple[str, list[Block]]:
    """The parent's notification text and blocks for ``state`` (buttons only with a session id, and while open)."""
    blocks = [header(state.title or DEFAULT_TITLE, "hitl_title")]
    summary = _summary(state)
    if summary:
        blocks.append(section(summary, "hitl_summary"))
    blocks.append(section(status_line(state), "hitl_status"))
    if state.session_id and not state.closed:
        blocks.append(_buttons(state.session_id))
    if state.transcript_head:
        blocks.append(divider("hitl_transcript_start"))
        blocks.extend(section(part, f"hitl_transcript_{n}") for n, part in enumerate(state.transcript_head))
    if state.transcript_more:
        blocks.append(context("_The conversation so far goes on in this thread._", "hitl_transcript_more"))
    return _notification(state), blocks


def status_line(state: ParentState) -> str:
    """``Closed``, ``Claimed by <name>``, or waiting for an agent."""
    if state.closed:
        suffix = f" (was claimed by {escape(state.claimed_by_name)})" if state.claimed_by_name else ""
        return f":white_check_mark: *Closed*{suffix}"
    if state.claimed_by:
        who = f"<@{state.claimed_by}>" if state.claimed_by.startswith(("U", "W")) else ""
        return f":raising_hand: *Claimed by {escape(state.claimed_by_name or '')}* {who}".replace("  ", " ").strip()
    return ":hourglass_flowing_sand: *Waiting for an agent*: click Claim, or reply in the thread."


def _summary(state: ParentState) -> str:
    lines = []
    if state.mention:
        lines.append(state.mention)  # put as configured: a mention (<!here>, <!subteam^S123>) is markup on purpose
    if state.description:
        lines.append(escape(state.description))
    meta = []
    if state.priority:
        meta.append(f"*Priority:* {PRIORITY_MARKS.get(state.priority, escape(state.priority))}")
    if state.tags:
        meta.append("*Tags:* " + ", ".join(f"`{escape(tag)}`" for tag in state.tags))
    if meta:
        lines.append("   ".join(meta))
    return "\n".join(lines)


def _buttons(session_id: str) -> Block:
    confirm = ConfirmObject(
        title="Close this handoff?",
        text="The conversation goes back to the bot.",
        confirm=CLOSE_TEXT,
        deny="Cancel",
    )
    claim = ButtonElement(text=CLAIM_TEXT, action_id=CLAIM_ACTION, value=session_id, style="primary")
    close = ButtonElement(text=CLOSE_TEXT, action_id=CLOSE_ACTION, value=session_id, style="danger", confirm=confirm)
    return ActionsBlock(block_id="hitl_actions", elements=[claim, close]).to_dict()


def _notification(state: ParentState) -> str:
    title = escape(state.title or DEFAULT_TITLE)
    if state.closed:
        return fallback(f"Closed: {title}")
    if state.claimed_by_name:
        return fallback(f"Claimed by {escape(state.claimed_by_name)}: {title}")
    return fallback(f"{state.mention + ' ' if state.mention else ''}{title}")
