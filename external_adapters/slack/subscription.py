"""``register``: the token works, and the bot can post where handoffs go.

Only reads (``auth.test``, ``conversations.info``) and an idempotent ``conversations.join``, so it is repeatable.
The bot's identity (user id, bot id, team) is remembered in the coordination memo for the inbound side, which
must tell the bot's own messages from the agents' (:func:`bot_identity`).
"""

from __future__ import annotations

import json

from ..base import AdapterContext
from ..errors import AdapterConfigError, ExternalAuthError, ExternalNotFoundError, ExternalRequestError
from .client import SlackClient
from .config import SlackConfig
from .models import AuthTest

IDENTITY_SECONDS = 366 * 24 * 3600.0


def identity_key(integration_id: str) -> str:
    """The memo of the bot's identity (``auth.test``) for one installation."""
    return f"slack:identity:{integration_id}"


async def check(client: SlackClient, config: SlackConfig, context: AdapterContext) -> None:
    """See :meth:`.adapter.SlackAdapter.subscribe`."""
    try:
        identity = await client.auth_test()
    except ExternalAuthError as exc:
        raise AdapterConfigError("botToken", f"Slack refused the token ({exc.summary})") from None
    memo = identity.model_dump_json(exclude_none=True)
    await context.env.coordinator.memo_set(identity_key(context.installation.integration_id), memo, IDENTITY_SECONDS)
    for channel_id in dict.fromkeys([config.channel_id, *config.allowed_channel_ids]):
        await _check_channel(
            client, channel_id, "channelId" if channel_id == config.channel_id else "allowedChannelIds"
        )


async def _check_channel(client: SlackClient, channel_id: str, field: str) -> None:
    try:
        channel = await client.conversations_info(channel_id)
        if channel.is_archived:
            raise AdapterConfigError(field, f"channel {channel_id} is archived")
        if not channel.is_member and channel.is_private:
            raise AdapterConfigError(field, f"the bot is not in private channel {channel_id}: invite it (/invite)")
        if not channel.is_member:
            await client.conversations_join(channel_id)
    except ExternalNotFoundError:
        raise AdapterConfigError(
            field, f"the bot cannot see channel {channel_id}: check the id, invite the bot"
        ) from None
    except ExternalRequestError as exc:
        raise AdapterConfigError(field, f"the bot cannot post in channel {channel_id} ({exc.summary})") from None


async def bot_identity(context: AdapterContext) -> AuthTest | None:
    """The bot's identity remembered at ``register``, or ``None`` when register has not run (or long ago)."""
    raw = await context.env.coordinator.memo_get(identity_key(context.installation.integration_id))
    return AuthTest.model_validate(json.loads(raw)) if raw else None
