"""The Slack app manifest the bridge needs: create the app from it, and nothing else is clicked in Slack's admin."""

from __future__ import annotations

from typing import Any

BOT_SCOPES = (
    "chat:write",
    "chat:write.customize",
    "users:read",
    "files:read",
    "files:write",
    "channels:history",
    "groups:history",
    "channels:join",
)
"""Post and edit (``chat:write``), as the end user (``.customize``), agent names (``users:read``), agents' files
(``files:read``) and the end user's (``files:write``), thread replies in public and private channels
(``*:history``), and joining the handoff channel at ``register`` (``channels:join``)."""
BOT_EVENTS = ("message.channels", "message.groups")


def manifest(request_url: str, name: str = "hitl-bridge") -> dict[str, Any]:
    """The manifest (Slack's JSON form) of an app whose events and button clicks go to ``request_url``."""
    return {
        "display_information": {"name": name, "description": "Botpress handoffs, one thread each"},
        "features": {"bot_user": {"display_name": name, "always_online": True}},
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": request_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }
