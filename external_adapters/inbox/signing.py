"""Signatures of the webhooks the inbox sends: HMAC-SHA256 over ``"<timestamp>.<body>"``.

Headers: ``x-inbox-timestamp`` (Unix seconds) and ``x-inbox-signature: v1=<hex digest>``. A
receiver recomputes the digest with the installation's secret and refuses stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP_HEADER = "x-inbox-timestamp"
SIGNATURE_HEADER = "x-inbox-signature"
EVENT_HEADER = "x-inbox-event-id"


def sign(secret: str, timestamp: int, body: str | bytes) -> str:
    """The signature header value of ``body`` (text is signed as its UTF-8) sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, timestamp: int, body: str, event_id: str) -> dict[str, str]:
    """Every header of a signed delivery."""
    return {
        "content-type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_HEADER: event_id,
    }


def check(secret: str, headers: Mapping[str, str], body: str | bytes, now: float, tolerance: float) -> str | None:
    """``None`` when the headers sign ``body`` (check the bytes received, not a re-encoding) within the time window,
    else why not."""
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_timestamp, signature = lowered.get(TIMESTAMP_HEADER), lowered.get(SIGNATURE_HEADER)
    if not raw_timestamp or not signature:
        return "missing signature headers"
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        return "malformed timestamp"
    if abs(now - timestamp) > tolerance:
        return "timestamp outside the accepted window"
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, which a forged header may hold.
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode(errors="surrogatepass")):
        return "signature mismatch"
    return None
