"""Zendesk webhook signatures, the payload our triggers send, and agent comment text cleanup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Literal

from markdownify import markdownify
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import safe_json
from ..errors import InvalidSignatureError, InvalidWebhookError

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
MAX_SKEW_SECONDS = 300.0
PAYLOAD_VERSION = 1
# Zendesk frames "<agent> commented on behalf of <user>" headers with ***! ... !*** markers.
_ON_BEHALF_MARKER = re.compile(r"!\*{3}|\*{3}!")
_RULE_LINE = re.compile(r"^[\s\-_*]*$")
_COMMENT_ID = re.compile(r"[1-9][0-9]{0,17}")
_ON_BEHALF_LINE = re.compile(r"^\W*[^\n]{0,200}\bon behalf of\b[^\n]{0,200}$", re.IGNORECASE)


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    """``base64(HMAC-SHA256(secret, timestamp + body))``, the scheme of Zendesk's current docs."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), timestamp.encode() + raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> None:
    """Check a delivery's signature over the body's exact bytes, and that its timestamp is within 5 minutes of
    ``now``.

    Raises:
        InvalidSignatureError: a header is missing, the timestamp is stale or unreadable, or the
            signature does not match.
    """
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise InvalidSignatureError("missing Zendesk signature headers")
    if abs(now - _epoch(timestamp)) > MAX_SKEW_SECONDS:
        raise InvalidSignatureError("Zendesk signature timestamp is more than 5 minutes from now")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        raise InvalidSignatureError("Zendesk signature does not match")


def _epoch(timestamp: str) -> float:
    try:
        return datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidSignatureError("Zendesk signature timestamp is not an ISO-8601 time") from None


class TriggerPayload(BaseModel):
    """The JSON body our trigger templates send (see :mod:`.triggers`): ids only, never free text."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: int = Field(alias="v")
    event: Literal["comment", "assigned", "solved"]
    ticket_id: int = Field(alias="ticketId")
    marker: str
    current_user_id: int | None = Field(default=None, alias="currentUserId")
    comment_id: int | None = Field(default=None, alias="commentId")
    """The newest public comment when the trigger fired (absent from triggers made by earlier versions)."""


def parse_payload(body: str | None) -> TriggerPayload | None:
    """The trigger payload, or ``None`` for a body that is not ours (e.g. Zendesk's "Test webhook").

    Raises:
        InvalidWebhookError: the body is not JSON, or nests too deeply to read.
    """
    try:
        data = safe_json.loads(body or "")
    except ValueError:
        raise InvalidWebhookError("Zendesk webhook body is not JSON") from None
    if not isinstance(data, dict) or data.get("v") != PAYLOAD_VERSION:
        return None
    if data.get("currentUserId") in ("", "-1"):  # system notifications render an empty or -1 id
        data = {**data, "currentUserId": None}
    if not _COMMENT_ID.fullmatch(str(data.get("commentId", ""))):  # "" on a ticket without a public comment
        data = {**data, "commentId": None}  # only a hint: never a reason to drop the whole delivery
    try:
        return TriggerPayload.model_validate(data)
    except ValidationError:
        return None


def comment_text(html_body: str | None, plain_body: str | None) -> str:
    """An agent comment as clean markdown: HTML converted, "on behalf of" header lines removed."""
    text = markdownify(html_body, heading_style="ATX", bullets="-") if html_body else plain_body or ""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = [line for line in lines if not _ON_BEHALF_MARKER.search(line)]
    while kept and _RULE_LINE.match(kept[0]):
        kept.pop(0)
    if kept and _ON_BEHALF_LINE.match(kept[0]) and len(kept) > 1:
        kept.pop(0)
    cleaned = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", cleaned)
