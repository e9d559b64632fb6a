"""Markdown as Slack mrkdwn, the cutting of long texts, and the parent's three forms."""

from __future__ import annotations

import pytest

from external_adapters.slack.mrkdwn import escape, split_text, to_mrkdwn
from external_adapters.slack.parent import ParentState, render_parent


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("plain & <b>", "plain &amp; &lt;b&gt;"),
        # Slack's own link syntax is a CommonMark autolink: it stays a link, to the whole (encoded) URL.
        ("<!channel> <@U123> <https://x.example.com|x>", "&lt;!channel&gt; &lt;@U123&gt; <https://x.example.com%7Cx>"),
        ("**bold** _it_ ~~gone~~ `a<b`", "*bold* _it_ ~gone~ `a&lt;b`"),
        ("[docs](https://d.example.com/a?b=1)", "<https://d.example.com/a?b=1|docs>"),
        ("[a|b](https://d.example.com/x|y)", "<https://d.example.com/x%7Cy|a¦b>"),
        ("[https://d.example.com](https://d.example.com)", "<https://d.example.com>"),
        ("![cat](https://c.example.com/cat.png)", "<https://c.example.com/cat.png|cat>"),
        ("# Title\n\nbody", "*Title*\n\nbody"),
        ("## A **bold** title", "*A bold title*"),
        ("- a\n- b\n\n1. one\n2. two", "• a\n• b\n\n1. one\n2. two"),
        ("> said\n> more", "> said\n> more"),
        ("```\nx < y\n```", "```\nx &lt; y\n```"),
        ("line one\nline two", "line one\nline two"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ],
)
def test_markdown_becomes_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_escape_handles_the_ampersand_first() -> None:
    assert escape("&lt; <") == "&amp;lt; &lt;"


def test_split_text_cuts_at_paragraphs_and_keeps_everything() -> None:
    text = "\n\n".join(f"para {n} " + "x" * 90 for n in range(50))
    pieces = split_text(text, 1000)
    assert all(len(piece) <= 1000 for piece in pieces)
    assert all(piece.startswith("para ") for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert split_text("y" * 2500, 1000) == ["y" * 1000, "y" * 1000, "y" * 500]


def test_the_parent_open_claimed_and_closed() -> None:
    state = ParentState(session_id="C1:1.2", title="Help", priority="urgent", tags=("a",), mention="<!here>")
    text, blocks = render_parent(state)
    assert "<!here>" in text and [b["block_id"] for b in blocks] == [
        "hitl_title",
        "hitl_summary",
        "hitl_status",
        "hitl_actions",
    ]
    claimed_text, claimed = render_parent(ParentState(session_id="C1:1.2", claimed_by="U9", claimed_by_name="Bob <3"))
    assert claimed_text.startswith("Claimed by Bob &lt;3") and "<@U9>" in claimed[1]["text"]["text"]
    assert any(b["type"] == "actions" for b in claimed)
    _, closed = render_parent(ParentState(session_id="C1:1.2", closed=True, claimed_by_name="Bob"))
    assert not any(b["type"] == "actions" for b in closed) and "Closed" in closed[1]["text"]["text"]
    _, pending = render_parent(ParentState(session_id=""))
    assert not any(b["type"] == "actions" for b in pending)  # no session id yet: no buttons


def test_parent_state_reads_a_record_and_ignores_what_it_does_not_know() -> None:
    state = ParentState.from_record("C1:1.2", {"title": "T", "tags": ["x"], "closed": True, "other": 1})
    assert (state.title, state.tags, state.closed, state.claimed_by) == ("T", ("x",), True, None)
