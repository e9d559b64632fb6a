"""Slack mrkdwn to markdown: references, links, emphasis, entities, code."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from external_adapters.slack.markup import to_markdown, user_ids

NAMES = {"U123": "Alice Martin", "W999": "Bob"}


@pytest.mark.parametrize(
    ("mrkdwn", "markdown"),
    [
        ("hi <@U123>, see <@W999|bob>", "hi @Alice Martin, see @Bob"),
        ("ask <@U404>", "ask @U404"),
        ("ask <@U404|carol>", "ask @carol"),
        ("in <#C1|general> or <#C2>", "in #general or #C2"),
        ("<!here> and <!channel> and <!everyone>", "@here and @channel and @everyone"),
        ("ping <!subteam^S123|@support>", "ping @support"),
        ("on <!date^1392734382^{date}|Feb 18, 2014>", "on Feb 18, 2014"),
        ("see <https://x.example/a?b=1&amp;c=2|the docs>", "see [the docs](https://x.example/a?b=1&c=2)"),
        ("see <https://x.example/a>", "see https://x.example/a"),
        ("<mailto:a@b.example|a@b.example>", "[a@b.example](mailto:a@b.example)"),
        ("*bold* and _it_ and ~gone~", "**bold** and _it_ and ~~gone~~"),
        ("2*3*4 stays, a_b_c stays", "2*3*4 stays, a_b_c stays"),
        ("a &amp; b &lt;tag&gt;", "a & b <tag>"),
        ("`*not bold* &lt;x&gt;`", "`*not bold* <x>`"),
        ("```\n*raw* <@U123>\n```", "```\n*raw* <@U123>\n```"),
        ("<https://x.example/*a*|*b*>", "[*b*](https://x.example/*a*)"),
        ("line one\n*line two*", "line one\n**line two**"),
    ],
)
def test_conversions(mrkdwn: str, markdown: str) -> None:
    assert to_markdown(mrkdwn, NAMES) == markdown


def test_the_mentioned_users_are_listed_once_in_order() -> None:
    assert user_ids("<@U2> <@U1|x> <@U2> <#C1> <!here>") == ["U2", "U1"]


PLAIN = st.text(alphabet=st.characters(blacklist_characters="<>&*_~`\x00", blacklist_categories=["Cs"]))


@given(PLAIN)
def test_plain_text_is_unchanged(text: str) -> None:
    assert to_markdown(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_any_text_converts_without_leaving_placeholders(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\x00", "")
    assert "\x00" not in to_markdown(escaped)


@given(
    st.text(
        alphabet=st.characters(blacklist_characters="<>&*_~`|\x00", blacklist_categories=("Cs", "Zl", "Zp", "Cc")),
        min_size=1,
    )
)
def test_a_link_label_survives(label: str) -> None:
    assert to_markdown(f"<https://x.example/|{label}>") == f"[{label}](https://x.example/)"
