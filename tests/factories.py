"""Requests shaped like the Botpress runtime's."""

from __future__ import annotations

import json
from typing import Any

from integration.context import encode_configuration
from tests.contracts.botpress import TEST_BOT_ID, TEST_INTEGRATION_ALIAS, TEST_INTEGRATION_ID

BOT_USER_ID = "user_01JBOTUSER0000000000000000"
WEBHOOK_ID = "wh_01JTESTWEBHOOK000000000000000"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def runtime_headers(operation: str, configuration: dict[str, Any] | None = None, **extra: str) -> dict[str, str]:
    """The headers the runtime sends with an operation."""
    headers = {
        "x-bp-operation": operation,
        "x-bot-id": TEST_BOT_ID,
        "x-bot-user-id": BOT_USER_ID,
        "x-integration-id": TEST_INTEGRATION_ID,
        "x-integration-alias": TEST_INTEGRATION_ALIAS,
        "x-webhook-id": WEBHOOK_ID,
        "x-bp-configuration": encode_configuration(configuration or {}),
        "traceparent": TRACEPARENT,
        "content-type": "application/json",
    }
    headers.update(extra)
    return headers


def action_body(action: str, action_input: Any) -> str:
    """An ``action_triggered`` body."""
    return json.dumps({"type": action, "input": action_input})


def message_created_body(
    *,
    bp_conversation_id: str,
    external_session_id: str | None,
    bp_message_id: str,
    message_type: str,
    payload: dict[str, Any],
    sender_id: str = BOT_USER_ID,
    message_tags: dict[str, str] | None = None,
    channel: str = "hitl",
) -> str:
    """A ``message_created`` body as the runtime sends it for a bot-written message."""
    stamp = "2026-08-19T12:00:00.000Z"
    conversation_tags = {"id": external_session_id} if external_session_id else {}
    return json.dumps(
        {
            "type": message_type,
            "payload": payload,
            "conversation": {
                "id": bp_conversation_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "channel": channel,
                "integration": TEST_INTEGRATION_ALIAS,
                "tags": conversation_tags,
            },
            "message": {
                "id": bp_message_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "type": message_type,
                "payload": payload,
                "direction": "outgoing",
                "userId": sender_id,
                "conversationId": bp_conversation_id,
                "tags": message_tags or {},
            },
            "user": {"id": sender_id, "createdAt": stamp, "updatedAt": stamp, "tags": {}},
        }
    )


def webhook_body(request_json: dict[str, Any]) -> str:
    """A ``webhook_received`` body wrapping the helpdesk's request."""
    return json.dumps({"req": request_json})
