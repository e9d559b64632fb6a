"""Slack's deliveries to the webhook URL: signature, url_verification, events and buttons (owned by the inbound
side; this placeholder refuses every delivery until it lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import WebhookAck, WebhookRequest, WebhookResult
from ..errors import InvalidWebhookError

if TYPE_CHECKING:
    from .adapter import SlackAdapter


async def verify_webhook(adapter: SlackAdapter, request: WebhookRequest) -> None:
    """Check ``X-Slack-Signature`` (v0) and the 5-minute window."""
    raise InvalidWebhookError("not implemented yet")


async def acknowledge_webhook(adapter: SlackAdapter, request: WebhookRequest) -> WebhookAck | None:
    """Answer Slack at once (the challenge, or 200) and queue the work."""
    raise InvalidWebhookError("not implemented yet")


async def parse_webhook(adapter: SlackAdapter, request: WebhookRequest) -> WebhookResult:
    """Events and button clicks as neutral events."""
    raise InvalidWebhookError("not implemented yet")


async def webhook_applied(adapter: SlackAdapter, result: WebhookResult) -> None:
    """Record what ``result`` applied."""
    raise InvalidWebhookError("not implemented yet")
