"""Deliveries from the fake Slack to the app's Request URL: signed, timed out at 3 seconds, retried.

Slack signs each request with the app's signing secret (``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``, in
``X-Slack-Signature``, the timestamp in ``X-Slack-Request-Timestamp``) and counts as failed an answer that is not
2xx or takes longer than 3 seconds; it then retries up to 3 times with ``X-Slack-Retry-Num`` 1..3 and
``X-Slack-Retry-Reason``. Real Slack waits about a minute, then five, between retries; the fake's delays are
settings (short by default). A delivery may be sent again by hand, byte for byte (:meth:`Deliverer.redeliver`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

ACK_DEADLINE_SECONDS = 3.0
DEFAULT_RETRY_DELAYS = (0.2, 0.5, 1.0)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One request Slack sent to the app, and every answer to it (one per attempt)."""

    id: int
    kind: str
    """``event``, ``interactivity`` or ``url_verification``."""
    content_type: str
    body: bytes
    forged: bool = False
    answers: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """As JSON for the test hooks (the body as text)."""
        shown = asdict(self)
        shown["body"] = self.body.decode()
        return shown

    @property
    def acknowledged(self) -> bool:
        """Whether some attempt was answered 2xx in time."""
        return any(answer.get("acknowledged") for answer in self.answers)


@dataclass
class DeliverySettings:
    """Where and how the fake delivers; set by the sandbox or a test (``POST /_test/config``)."""

    request_url: str | None = None
    signing_secret: str = ""
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    deadline_seconds: float = ACK_DEADLINE_SECONDS
    late_answers: int = 0
    """How many of the next answers count as too late (past the deadline) whatever they say: the app did the
    work, Slack did not see the answer in time, and retries."""


class Deliverer:
    """Sends deliveries and keeps them all."""

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self.deliveries: list[Delivery] = []
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the HTTP client."""
        self._http = httpx.AsyncClient(trust_env=False)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.aclose()

    def record(self, kind: str, content_type: str, body: bytes, *, forged: bool = False) -> Delivery:
        """A new delivery, not sent yet."""
        delivery = Delivery(len(self.deliveries) + 1, kind, content_type, body, forged)
        self.deliveries.append(delivery)
        return delivery

    async def deliver(self, delivery: Delivery) -> Delivery:
        """Send it, then retry (``X-Slack-Retry-Num`` 1..3) while it is not acknowledged."""
        await self._attempt(delivery, None)
        for number, delay in enumerate(self.settings.retry_delays, start=1):
            if delivery.acknowledged or delivery.forged:
                break
            await asyncio.sleep(delay)
            await self._attempt(delivery, number)
        return delivery

    async def redeliver(self, delivery: Delivery) -> Delivery:
        """Send it once more, as Slack's next retry would (the same body, freshly signed)."""
        await self._attempt(delivery, len(delivery.answers))
        return delivery

    def _headers(self, delivery: Delivery, retry_number: int | None) -> dict[str, str]:
        timestamp = str(int(time.time()))
        secret = "not-the-signing-secret" if delivery.forged else self.settings.signing_secret
        headers = {
            "Content-Type": delivery.content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret, timestamp, delivery.body),
        }
        if retry_number:
            reason = delivery.answers[-1].get("reason", "http_error") if delivery.answers else "http_error"
            headers.update({"X-Slack-Retry-Num": str(retry_number), "X-Slack-Retry-Reason": reason})
        return headers

    async def _attempt(self, delivery: Delivery, retry_number: int | None) -> None:
        url = self.settings.request_url
        if url is None or httpx.URL(url).host not in LOOPBACK:
            delivery.answers.append({"status": None, "body": "no loopback Request URL configured", "reason": "none"})
            return
        assert self._http is not None, "the deliverer is not started"
        headers = self._headers(delivery, retry_number)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.deadline_seconds):
                response = await self._http.post(url, headers=headers, content=delivery.body)
        except (TimeoutError, httpx.HTTPError) as exc:
            reason = _failure_reason(exc)
            delivery.answers.append({"status": None, "body": type(exc).__name__, "reason": reason})
            return
        took = round(time.monotonic() - started, 3)
        answer = {"status": response.status_code, "body": response.text[:2000], "seconds": took, "retry": retry_number}
        if self.settings.late_answers > 0:
            self.settings.late_answers -= 1
            delivery.answers.append({**answer, "acknowledged": False, "reason": "http_timeout"})
            return
        ok = 200 <= response.status_code < 300
        delivery.answers.append({**answer, "acknowledged": ok, "reason": "http_error"})


def _failure_reason(exc: Exception) -> str:
    """Slack's ``X-Slack-Retry-Reason`` for a delivery that got no answer."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "http_timeout"
    return "connection_failed" if isinstance(exc, httpx.ConnectError) else "unknown_error"
