"""What Slack sends the app: Events API ``event_callback`` bodies, ``block_actions`` interactivity payloads and
the ``url_verification`` challenge, built from the workspace's messages."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from .workspace import BOT_USER_ID, TEAM_ID, Channel, SlackError, Workspace

APP_ID = "AFAKEAPP1"
VERIFICATION_TOKEN = "fake-verification-token"  # deprecated by Slack, still sent
_EVENT_IDS = itertools.count(1)
_EVENT_FIELDS = ("user", "bot_id", "app_id", "text", "ts", "thread_ts", "files", "blocks", "username", "subtype")


def event_callback(channel: Channel, message: dict[str, Any]) -> bytes:
    """The ``message`` event of a new message (``message.channels`` / ``message.groups``), with a unique id."""
    event = {key: message[key] for key in _EVENT_FIELDS if key in message}
    if "files" in message and "subtype" not in event and "bot_id" not in message:
        event["subtype"] = "file_share"
    if "bot_id" in message and message.get("username"):
        event["subtype"] = "bot_message"
    event.update({"type": "message", "channel": channel.id, "event_ts": message["ts"], "team": TEAM_ID})
    event["channel_type"] = "group" if channel.is_private else "channel"
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{int(time.time())}{next(_EVENT_IDS):06d}",
        "event_time": int(float(message["ts"])),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "is_ext_shared_channel": False,
    }
    return json.dumps(body).encode()


def block_actions(workspace: Workspace, channel: Channel, message_ts: str, user_id: str, action_id: str) -> bytes:
    """The form body (``payload=<json>``) of a click on the button ``action_id`` of a message, by ``user_id``."""
    message = workspace.message(channel.id, message_ts)
    button = _button(message, action_id)
    user = workspace.user(user_id)
    action = {**button, "block_id": button.get("block_id", "actions"), "action_ts": workspace.next_ts()}
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user["name"], "name": user["name"], "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel.id, "is_ephemeral": False},
        "trigger_id": f"{int(time.time())}.{next(_EVENT_IDS)}.fake",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "channel": {"id": channel.id, "name": channel.name},
        "message": {k: v for k, v in message.items() if k != "metadata"},
        "response_url": "https://hooks.slack.test/actions/fake",
        "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def url_verification(challenge: str) -> bytes:
    """The challenge Slack sends when the Request URL is set."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}).encode()


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The button ``action_id`` among the message's blocks (``actions`` blocks, or a section's accessory)."""
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or []) + ([block["accessory"]] if "accessory" in block else [])
        for element in elements:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "actions")}
    raise SlackError("button_not_found")
