"""register/unregister: the webhook, its signing secret, the bot's Zendesk user and the triggers."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable

from ..base import AdapterContext
from ..errors import ExternalNotFoundError, ExternalServiceError
from .client import ZendeskClient
from .models import UserInput, WebhookInput, ZendeskSubscription
from .stored import STATE_NAME, load
from .triggers import TEMPLATES, TITLE_PREFIX, build_trigger

log = logging.getLogger(__name__)
__all__ = ["STATE_NAME", "load"]  # kept here too: the subscription's state is read through this module
BOT_USER_NAME = "Botpress"


def marker_tag(webhook_id: str) -> str:
    """The tag on every ticket this installation opens; triggers fire only for tickets carrying it."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", webhook_id.lower()).strip("_")
    return f"hitl_bridge_{cleaned[:40] or 'default'}"


def idempotency_tag(key: str) -> str:
    """A short, stable tag (also the first external_id) for one startHitl idempotency key."""
    return "hitl_req_" + hashlib.sha256(key.encode()).hexdigest()[:24]


async def save(context: AdapterContext, subscription: ZendeskSubscription | None) -> None:
    """Store (or, with ``None``, clear) the subscription."""
    await context.state.set(STATE_NAME, subscription.model_dump(mode="json") if subscription else None)


async def create(
    client: ZendeskClient, context: AdapterContext, webhook_url: str, only_marked: bool
) -> ZendeskSubscription:
    """Create everything, saving progress so a crash leaves nothing unknown; roll back on failure. Returns what
    it stored."""
    subscription = ZendeskSubscription(marker_tag=marker_tag(context.installation.webhook_id))
    try:
        await _create_steps(client, context, subscription, webhook_url, only_marked)
    except ExternalServiceError:
        await remove(client, subscription, strict=False)
        await save(context, None)
        raise
    return subscription


async def _create_steps(
    client: ZendeskClient, context: AdapterContext, sub: ZendeskSubscription, webhook_url: str, only_marked: bool
) -> None:
    webhook = await client.create_webhook(
        WebhookInput(
            name=f"{TITLE_PREFIX} {sub.marker_tag}",
            endpoint=webhook_url,
            description=f"Botpress bot {context.installation.bot_id}",
        )
    )
    sub.webhook_id = webhook.id
    await save(context, sub)
    sub.signing_secret = (await client.webhook_signing_secret(webhook.id)).secret
    bot = await client.create_or_update_user(
        UserInput(name=BOT_USER_NAME, external_id=context.installation.bot_user_id, skip_verify_email=True)
    )
    sub.bot_zendesk_user_id = bot.id
    for template in TEMPLATES:
        trigger = await client.create_trigger(build_trigger(template, webhook.id, sub.marker_tag, only_marked))
        sub.trigger_ids.append(trigger.id)
        await save(context, sub)


async def remove(client: ZendeskClient, subscription: ZendeskSubscription, *, strict: bool) -> None:
    """Delete the triggers, then the webhook. What is already gone is fine.

    With ``strict`` other failures propagate (the state stays, so unregister can be retried);
    without it they are logged and skipped (cleanup before a new register, or a rollback).
    """
    for trigger_id in subscription.trigger_ids:
        await _tolerant(client.delete_trigger(trigger_id), strict)
    if subscription.webhook_id:
        await _tolerant(client.delete_webhook(subscription.webhook_id), strict)


async def _tolerant(call: Awaitable[None], strict: bool) -> None:
    try:
        await call
    except ExternalNotFoundError:
        pass
    except ExternalServiceError as exc:
        if strict:
            raise
        log.warning("zendesk cleanup step failed, skipped: %s", exc)
