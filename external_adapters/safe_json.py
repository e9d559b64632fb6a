"""JSON and text from untrusted callers, made safe to hold and to send on.

Two kinds of hostile input break Python where Node's ``JSON.parse`` copes:

* nesting deep enough to raise :class:`RecursionError` in :func:`json.loads` (V8 parses it without
  recursing), which :func:`loads` turns into a :class:`ValueError` like any other unreadable JSON;
* lone surrogates (``"\\ud800"``), which JSON may spell but UTF-8 cannot encode: sent on, they fail
  with :class:`UnicodeEncodeError`. Node replaces them with U+FFFD when it writes a string as UTF-8;
  :func:`loads` and :func:`clean_text` do the same as soon as the text comes in.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
# The only way a surrogate gets into parsed JSON: an escape (raw text is decoded with replacement).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnreadableJsonError(ValueError):
    """The text is nested too deeply to be read."""


def _not_json(constant: str) -> Any:
    # json.loads takes NaN and Infinity, which are not JSON: JSON.parse refuses them, and so do we.
    raise ValueError(f"{constant} is not JSON")


def loads(text: str) -> Any:
    """:func:`json.loads` as strict as ``JSON.parse``: deep nesting is a :class:`ValueError`, ``NaN`` and
    ``Infinity`` are refused, and lone surrogates are replaced by U+FFFD.

    Raises:
        ValueError: the text is not JSON, or nests too deeply (:class:`UnreadableJsonError`).
    """
    try:
        value = json.loads(text, parse_constant=_not_json)
        if _SURROGATE_ESCAPE.search(text) is None and _SURROGATE.search(text) is None:
            return value
        # Valid pairs were joined by the decoder; what is left alone becomes U+FFFD, keys included.
        return json.loads(clean_text(json.dumps(value, ensure_ascii=False)))
    except RecursionError:
        raise UnreadableJsonError("JSON nested too deeply") from None


def loads_body(body: bytes) -> Any:
    """:func:`loads` of an HTTP answer's body, read as UTF-8 (bytes that are not become U+FFFD).

    JSON is UTF-8 (RFC 8259) whatever charset a ``Content-Type`` claims; reading the bytes directly also skips
    httpx's parse of that header on every answer.
    """
    return loads(body.decode("utf-8", "replace"))


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (unchanged, and fast, when there is none)."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
