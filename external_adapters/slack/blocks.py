"""Block Kit pieces (built with ``slack_sdk.models.blocks``) and the packing of long texts within Slack's limits.

Slack's limits (api.slack.com/reference/block-kit/blocks, chat.postMessage): at most :data:`MAX_BLOCKS` blocks per
message, :data:`MAX_SECTION_CHARS` characters per section text, :data:`MAX_HEADER_CHARS` per header, and
:data:`MAX_MESSAGE_CHARS` characters of text per message (counted here over the fallback text and every block's
text together, so the sum holds too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from .mrkdwn import split_text

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_MESSAGE_CHARS = 40_000
MAX_FALLBACK_CHARS = 300
"""The notification text of a message with blocks: a short summary, not a copy of the blocks."""
Block = dict[str, Any]


def section(mrkdwn: str, block_id: str | None = None) -> Block:
    """A section of mrkdwn text (at most :data:`MAX_SECTION_CHARS`: cut with an ellipsis beyond)."""
    block = SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, MAX_SECTION_CHARS)), block_id=block_id)
    return block.to_dict()


def header(text: str, block_id: str | None = None) -> Block:
    """A header (plain text, at most :data:`MAX_HEADER_CHARS`)."""
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_CHARS)), block_id=block_id).to_dict()


def context(mrkdwn: str, block_id: str | None = None) -> Block:
    """A context line of mrkdwn."""
    elements = [MarkdownTextObject(text=clip(mrkdwn, MAX_SECTION_CHARS))]
    return ContextBlock(elements=elements, block_id=block_id).to_dict()


def divider(block_id: str | None = None) -> Block:
    """A divider."""
    return DividerBlock(block_id=block_id).to_dict()


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut (Slack refuses longer texts outright)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_chars(blocks: Sequence[Block]) -> int:
    """The characters of text the blocks carry (section, header and context texts)."""
    total = 0
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            total += len(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                total += len(element["text"])
    return total


def sections_of(mrkdwn: str) -> list[str]:
    """``mrkdwn`` cut into section texts of at most :data:`MAX_SECTION_CHARS`, at paragraph ends where it can."""
    return [piece for piece in split_text(mrkdwn, MAX_SECTION_CHARS) if piece.strip()]


def pack(pieces: Sequence[str], *, max_blocks: int, max_chars: int) -> list[list[str]]:
    """Group section texts, in order, into messages of at most ``max_blocks`` sections and ``max_chars``."""
    messages: list[list[str]] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and (len(current) >= max_blocks or size + len(piece) > max_chars):
            messages.append(current)
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    if current:
        messages.append(current)
    return messages


def fallback(text: str) -> str:
    """The notification text of a message: its first line(s), short."""
    return clip(" ".join(text.split()), MAX_FALLBACK_CHARS) or "…"
