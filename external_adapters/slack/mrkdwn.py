"""Markdown (end-user text, the condensed transcript) as Slack mrkdwn, and long texts cut within Slack's limits.

Parsed with markdown-it-py (CommonMark, plus strikethrough and tables), then written out in mrkdwn: ``*bold*``,
``_italic_``, ``~strike~``, `` `code` ``, fenced code as triple backticks, links as ``<url|label>``, lists with
bullets and numbers, quotes with ``>``, headings as bold lines. Text is escaped (``&`` ``<`` ``>``) so that nothing
an end user types becomes a mention (``<!channel>``) or a link Slack would render.
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markdown_it.token import Token

_INLINE_MARKS = {"strong": "*", "em": "_", "s": "~"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["strikethrough", "table"])


def escape(text: str) -> str:
    """Slack's three control characters as entities (what Slack's docs ask for in any text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """``markdown`` as Slack mrkdwn (see the module docstring); plain text comes back escaped."""
    writer = _Writer()
    writer.blocks(_parser().parse(markdown))
    return writer.result()


class _Writer:
    """Walks markdown-it's block tokens; each block is one or more lines, blocks are apart by a blank line."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.prefixes: list[str] = []
        self.counters: list[int | None] = []
        self.marker = ""
        self.in_list_item = False
        self.heading = False

    def result(self) -> str:
        return "\n\n".join(part for part in self.out if part).strip("\n")

    def emit(self, text: str, *, join: bool = False) -> None:
        prefix = "".join(self.prefixes)
        lines = "\n".join(prefix + line for line in text.split("\n"))
        if join and self.out and self.out[-1]:
            self.out[-1] += "\n" + lines  # the items of one list are lines, not paragraphs
        else:
            self.out.append(lines)

    def blocks(self, tokens: list[Token]) -> None:
        for token in tokens:
            self.block(token)

    def block(self, token: Token) -> None:
        kind = token.type
        if kind == "inline":
            marker, self.marker = self.marker, ""
            # mrkdwn has no headings: a bold line (bold inside it would close the bold early)
            text = inline(token.children or [], bold=not self.heading)
            text = f"*{text}*" if self.heading and text else text
            self.emit(marker + text, join=bool(marker) and self.in_list_item)
        elif kind == "list_item_open":
            self.marker = self.list_marker()
        elif kind in ("fence", "code_block"):
            self.emit("```\n" + escape(token.content.rstrip("\n")) + "\n```")
        elif kind in ("heading_open", "heading_close"):
            self.heading = kind == "heading_open"
        elif kind == "hr":
            self.emit("———")
        elif kind == "blockquote_open":
            self.prefixes.append("> ")
        elif kind in ("bullet_list_open", "ordered_list_open"):
            self.counters.append(int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None)
            self.in_list_item = False
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.counters.pop()
            self.in_list_item = False
        elif kind == "list_item_close":
            self.in_list_item = True  # the next item of this list continues its lines
        elif kind == "blockquote_close":
            self.prefixes.pop()
        elif kind == "html_block":
            self.emit(escape(token.content.rstrip("\n")))

    def list_marker(self) -> str:
        if not self.counters:
            return ""
        number = self.counters[-1]
        if number is None:
            return "• "
        self.counters[-1] = number + 1
        return f"{number}. "


def inline(tokens: list[Token], *, bold: bool = True) -> str:
    """One paragraph's inline tokens as mrkdwn (``bold=False`` drops the bold marks: within a bold line)."""
    marks = _INLINE_MARKS if bold else {k: v for k, v in _INLINE_MARKS.items() if k != "strong"}
    parts: list[str] = []
    links: list[str | None] = []
    for token in tokens:
        kind = token.type
        if kind == "text":
            parts.append(escape(token.content))
        elif kind == "code_inline":
            parts.append(f"`{escape(token.content)}`")
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind.endswith("_open") and kind[:-5] in marks:
            parts.append(marks[kind[:-5]])
        elif kind.endswith("_close") and kind[:-6] in marks:
            parts.append(marks[kind[:-6]])
        elif kind == "link_open":
            href = _safe_href(str(token.attrGet("href") or ""))
            links.append(href if token.markup != "autolink" else f"\x01{href}" if href else None)
            parts.append("\x00")  # where the label starts
        elif kind == "link_close":
            _close_link(parts, links.pop() if links else None)
        elif kind == "image":
            parts.append(_link(_safe_href(str(token.attrGet("src") or "")), escape(token.content) or "image"))
        elif kind == "html_inline":
            parts.append(escape(token.content))
    return "".join(parts)


def _close_link(parts: list[str], href: str | None) -> None:
    start = len(parts) - 1 - parts[::-1].index("\x00")
    label = "".join(parts[start + 1 :])
    del parts[start:]
    parts.append(_link(href, label))


def _safe_href(href: str) -> str | None:
    return href if href.lower().startswith(_SAFE_SCHEMES) else None


def _link(href: str | None, label: str) -> str:
    """``<url|label>``; an autolink (marked ``\x01``) or a label that is the URL itself gives ``<url>``; an unsafe
    URL leaves the label only."""
    if href is None:
        return label
    autolink = href.startswith("\x01")
    href = href.removeprefix("\x01")
    url = href.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    if autolink or not label or label == escape(href):
        return f"<{url}>"
    return f"<{url}|{label.replace('|', '¦').replace(chr(10), ' ')}>"


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a blank line, a line end or a space when one
    falls in the second half of the piece (a piece cut mid-word otherwise)."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return [piece for piece in pieces if piece] or [""]


def _cut_point(text: str, limit: int) -> int:
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, 0, limit)
        if at >= limit // 2:
            return at
    return limit
