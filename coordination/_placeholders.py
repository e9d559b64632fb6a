"""``?`` placeholders to PostgreSQL's ``$1..$n``, leaving quoted text and comments alone."""

from __future__ import annotations

import re
from functools import lru_cache

# One token at a time: a quoted literal or identifier, a comment, a dollar-quoted body, or one other character.
# E'...' strings take backslash escapes; standard strings only double their quote.
_TOKEN = re.compile(
    r"""
      (?P<escaped>[eE]'(?:[^'\\]|\\.|'')*')
    | (?P<quoted>'(?:[^']|'')*')
    | (?P<identifier>"(?:[^"]|"")*")
    | (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?\$(?P=tag)\$)
    | (?P<placeholder>\?)
    | (?P<word>[A-Za-z_0-9]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DOLLAR_OPENER = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")


class PlaceholderError(ValueError):
    """The SQL has an unterminated quote or comment, so its placeholders cannot be told from its text."""


@lru_cache(maxsize=1024)
def to_numbered(sql: str) -> str:
    """``sql`` with each ``?`` outside quotes and comments replaced by ``$1``, ``$2``...

    PostgreSQL's JSON operators ``?``, ``?|`` and ``?&`` cannot be written bare for that reason: use
    ``jsonb_exists(...)``, ``jsonb_exists_any(...)``, ``jsonb_exists_all(...)``.

    Raises:
        PlaceholderError: a quote, a dollar-quoted body or a block comment is never closed.
    """
    parts: list[str] = []
    count = 0
    position = 0
    while position < len(sql):
        match = _TOKEN.match(sql, position)
        if match is None or _unterminated(match):
            raise PlaceholderError(f"unterminated quote or comment at offset {position} of: {sql[:80]!r}")
        if match.lastgroup == "placeholder":
            count += 1
            parts.append(f"${count}")
        else:
            parts.append(match.group())
        position = match.end()
    return "".join(parts)


def _unterminated(match: re.Match[str]) -> bool:
    # A lone opening quote falls through to ``other``; so does ``/*`` without its end, and a ``$tag$`` opener.
    text = match.group()
    if match.lastgroup != "other":
        return False
    opens_comment = match.string.startswith("/*", match.start())
    return text in ("'", '"') or opens_comment or _DOLLAR_OPENER.match(match.string, match.start()) is not None
