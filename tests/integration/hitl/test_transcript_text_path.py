"""A text message's short rendering path gives exactly what the generic path (its blocks) gives."""

from __future__ import annotations

import pytest

from bp_modules.hitl import HistoryMessage
from integration.hitl import _transcript_format as fmt


def _generic(message: HistoryMessage) -> fmt.MessageRendering:
    blocks = fmt.message_blocks(message)
    plain = "\n".join(fmt.text_block(block) for block in blocks)
    markdown = "\n\n".join(fmt.markdown_block(block) for block in blocks)
    return fmt.MessageRendering(plain, fmt.indent(plain), markdown, "\n".join(fmt.html_block(b) for b in blocks))


@pytest.mark.parametrize(
    "text",
    ["hello", "a\nb\n\nc", "# not a title\n1. no list", "<b>&amp;</b> *x* [l](u)", "cr\r\nlf\rx\x07", "nul \x00 é 😀"],
)
def test_a_text_message_renders_as_its_blocks_do(text: str) -> None:
    message = HistoryMessage.model_validate({"source": {"type": "bot"}, "type": "text", "payload": {"text": text}})
    assert fmt.render_message(message) == _generic(message)
