"""Redaction before storage, and the plain text the console shows for a payload."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .config import RedactionRule

_TEXT_KEYS = ("text", "markdown", "title", "address", "subtitle")


class Redactor:
    """Applies the configured rules, in order, to every string a payload carries as text."""

    def __init__(self, rules: Sequence[RedactionRule]) -> None:
        self._rules = [(re.compile(rule.pattern), rule.replacement) for rule in rules]

    def text(self, value: str | None) -> str | None:
        """``value`` with every match replaced."""
        if value is None:
            return None
        for pattern, replacement in self._rules:
            value = pattern.sub(replacement, value)
        return value

    def payload(self, payload: Any) -> Any:
        """A copy of a message payload with its text fields redacted (URLs and ids kept)."""
        if isinstance(payload, list):
            return [self.payload(item) for item in payload]
        if not isinstance(payload, dict):
            return payload
        return {key: self._field(key, value) for key, value in payload.items()}

    def _field(self, key: str, value: Any) -> Any:
        if key in _TEXT_KEYS and isinstance(value, str):
            return self.text(value)
        if key in ("additionalData", "userId"):
            return value
        return self.payload(value)


def payload_text(message_type: str, payload: dict[str, Any]) -> str:
    """A one-line plain rendering of a payload, for lists and transcripts."""
    if message_type in ("text", "choice", "dropdown"):
        return str(payload.get("text", ""))
    if message_type == "markdown":
        return str(payload.get("markdown", ""))
    if message_type == "bloc":
        items = payload.get("items", [])
        return " ".join(payload_text(item.get("type", ""), item.get("payload", {})) for item in items)
    for key in ("imageUrl", "audioUrl", "videoUrl", "fileUrl"):
        if key in payload:
            title = payload.get("title")
            return f"[{message_type}] {title + ' ' if title else ''}{payload[key]}"
    if message_type in ("card", "carousel", "location"):
        return f"[{message_type}] {payload.get('title') or payload.get('address') or ''}".strip()
    return f"[{message_type}]"
