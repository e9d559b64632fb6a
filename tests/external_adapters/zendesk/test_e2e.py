"""The issue's end-to-end scenario through the real HTTP server, the fake Botpress and the fake Zendesk.

register -> createUser -> startHitl (a history with every message type) -> user messages of every hitl type
-> a signed agent reply and its redelivery -> assignment -> solve -> stopHitl -> unregister.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters.zendesk import ZendeskRuntime
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from tests import conftest as shared
from tests.adapter_kit import RecordedSleeps, fixed_dns
from tests.factories import action_body, message_created_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

from .conftest import CONFIG, MEDIA_URL
from .fake_zendesk import FakeZendesk

ZENDESK_CONFIG = {**CONFIG, "adapter": "zendesk", "closeStatus": "closed", "tags": ["botpress"]}
WEBHOOK_URL = "https://webhook.botpress.cloud/wh_01JTESTWEBHOOK000000000000000"
BOT = {"type": "bot"}
HISTORY_PAYLOADS: list[tuple[str, dict[str, Any]]] = [
    ("text", {"text": "Hi! How can I help?"}),
    ("markdown", {"markdown": "**Welcome**"}),
    ("image", {"imageUrl": f"{MEDIA_URL}/cat.png", "title": "A cat"}),
    ("audio", {"audioUrl": f"{MEDIA_URL}/song.mp3"}),
    ("video", {"videoUrl": f"{MEDIA_URL}/clip.mp4"}),
    ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Terms"}),
    ("location", {"latitude": 45.5, "longitude": -73.6, "title": "Shop"}),
    ("card", {"title": "Plan", "actions": [{"action": "url", "label": "Open", "value": "https://x.io"}]}),
    ("carousel", {"items": [{"title": "A", "actions": [{"action": "say", "label": "Pick A", "value": "a"}]}]}),
    ("choice", {"text": "Refund?", "options": [{"label": "Yes", "value": "y"}]}),
    ("dropdown", {"text": "Country", "options": [{"label": "Canada", "value": "ca"}]}),
    ("bloc", {"items": [{"type": "text", "payload": {"text": "bloc text"}}]}),
]
USER_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("text", {"text": "I want a refund"}),
    ("image", {"imageUrl": f"{MEDIA_URL}/cat.png", "title": "Receipt photo"}),
    ("audio", {"audioUrl": f"{MEDIA_URL}/song.mp3"}),
    ("video", {"videoUrl": f"{MEDIA_URL}/clip.mp4"}),
    ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Invoice"}),
    (
        "bloc",
        {
            "items": [
                {"type": "text", "payload": {"text": "and"}},
                {"type": "markdown", "payload": {"markdown": "**more**"}},
            ]
        },
    ),
]


@pytest.fixture
async def client(
    aiohttp_client: Any,
    tmp_path: Path,
    fake_botpress: FakeBotpress,
    fake_zendesk: FakeZendesk,
    media_host: respx.MockRouter,
) -> TestClient[web.Request, web.Application]:
    app: web.Application = create_app(shared.test_settings(tmp_path, adapter="zendesk"))
    test_client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
    backend = test_client.app[ADAPTER_BACKENDS]["zendesk"]
    assert isinstance(backend, ZendeskRuntime)
    backend.sleep = RecordedSleeps()
    backend.resolve = fixed_dns
    return test_client


async def call(client: TestClient[web.Request, web.Application], operation: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    response = await client.post("/", data=data, headers=runtime_headers(operation, ZENDESK_CONFIG))
    text = await response.text()
    return response.status, json.loads(text) if text else None


async def action(client: TestClient[web.Request, web.Application], name: str, action_input: Any) -> Any:
    status, body = await call(client, "action_triggered", action_body(name, action_input))
    assert status == 200, body
    return body["output"]


async def webhook(client: TestClient[web.Request, web.Application], request: Any) -> None:
    status, body = await call(client, "webhook_received", webhook_body(request.model_dump()))
    assert status == 200, body


async def test_the_whole_hitl_flow(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    # 1. register
    assert (await call(client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    assert len(fake_zendesk.webhooks) == 1 and len(fake_zendesk.triggers) == 3

    # 2. createUser
    bp_user_id = (await action(client, "createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    zendesk_user_id = int(fake_botpress.users[bp_user_id]["tags"]["id"])
    assert fake_zendesk.users[zendesk_user_id]["external_id"] == bp_user_id

    # 3. startHitl with a history holding every message type
    history = [{"source": BOT, "type": kind, "payload": payload} for kind, payload in HISTORY_PAYLOADS]
    history.insert(1, {"source": {"type": "user", "userId": bp_user_id}, "type": "text", "payload": {"text": "Help"}})
    start = {
        "userId": bp_user_id,
        "title": "Refund",
        "description": "Wants a refund",
        "messageHistory": history,
        "hitlSession": {"priority": "high", "tags": ["refund"]},
    }
    conversation_id = (await action(client, "startHitl", start))["conversationId"]
    ticket_id = int(fake_botpress.conversations[conversation_id]["tags"]["id"])
    ticket = fake_zendesk.tickets[ticket_id]
    assert ticket.data["external_id"] == conversation_id and ticket.data["priority"] == "high"
    assert {"botpress", "refund"} <= set(ticket.data["tags"])
    opening = ticket.comments[0]["html_body"]
    for fragment in ("Wants a refund", "Help", "Refund?", "Shop", "Plan"):
        assert fragment in opening, fragment

    # 4. user messages of every hitl type
    for index, (kind, payload) in enumerate(USER_MESSAGES):
        message_id = f"msg_01JE2E{index:022d}"
        body = message_created_body(
            bp_conversation_id=conversation_id,
            external_session_id=str(ticket_id),
            bp_message_id=message_id,
            message_type=kind,
            payload={**payload, "userId": bp_user_id},
        )
        fake_botpress.seed_bot_message(json.loads(body))
        assert await call(client, "message_created", body) == (200, {})
        assert fake_botpress.messages[message_id]["tags"]["id"] == str(ticket.comments[-1]["id"])
    sent = ticket.comments[1:]
    assert [c["author_id"] for c in sent] == [zendesk_user_id] * len(USER_MESSAGES)
    assert [len(c["attachments"]) for c in sent] == [0, 1, 1, 1, 1, 0]
    assert sent[-1]["body"] == "and\n\n**more**"

    # 5. an agent reply via a signed webhook, then its redelivery
    (reply,) = fake_zendesk.agent_comment(ticket_id, "<p>Hi Jane, <b>Bob</b> here</p>")
    await webhook(client, reply)
    await webhook(client, reply)
    agent_messages = [
        m for m in fake_botpress.messages_in(conversation_id) if m["payload"].get("text") == "Hi Jane, **Bob** here"
    ]
    assert len(agent_messages) == 1
    agent_bp_user = fake_botpress.users[agent_messages[0]["userId"]]
    assert agent_bp_user["tags"]["id"] == str(fake_zendesk.agent)

    # 6. assignment
    (assigned,) = fake_zendesk.assign(ticket_id)
    await webhook(client, assigned)
    assert fake_botpress.event_types() == ["hitlAssigned"]
    assert fake_botpress.events[0]["payload"] == {
        "conversationId": conversation_id,
        "userId": agent_messages[0]["userId"],
    }

    # 7. solve, with a last comment in the same update: the comment comes first, then hitlStopped
    deliveries = fake_zendesk.set_status(ticket_id, "solved", comment_html="<p>Refund done, bye!</p>")
    for delivery in reversed(deliveries):  # the solve webhook may well arrive before the comment one
        await webhook(client, delivery)
    texts = [m["payload"].get("text") for m in fake_botpress.messages_in(conversation_id)]
    assert texts.count("Refund done, bye!") == 1
    assert fake_botpress.event_types() == ["hitlAssigned", "hitlStopped"]

    # 8. stopHitl: the agent already ended the session, so it succeeds whether or not the ticket is touched
    assert await action(client, "stopHitl", {"conversationId": conversation_id}) == {}
    assert ticket.data["status"] in {"solved", "closed"}

    # 9. unregister
    assert (await call(client, "unregister", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    assert fake_zendesk.webhooks == {} and fake_zendesk.triggers == {}


async def test_stop_hitl_on_an_open_ticket_sets_the_close_status(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    assert (await call(client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    bp_user_id = (await action(client, "createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    start = {"userId": bp_user_id, "title": "Refund", "messageHistory": []}
    conversation_id = (await action(client, "startHitl", start))["conversationId"]
    assert await action(client, "startHitl", start) == {"conversationId": conversation_id}  # a retry: one ticket
    assert len(fake_zendesk.tickets) == 1
    assert await action(client, "stopHitl", {"conversationId": conversation_id}) == {}
    ticket_id = int(fake_botpress.conversations[conversation_id]["tags"]["id"])
    assert fake_zendesk.tickets[ticket_id].data["status"] == "closed"
