"""The runtime side calls a (stub) integration with the SDK's headers and bodies, and relays webhooks both ways."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from external_adapters import WebhookRequest
from integration.sandbox.runtime import IntegrationCallError, SandboxRuntime
from integration.sandbox.runtime_api import Botpress
from tests.sandbox.conftest import IDENTITY

pytestmark = pytest.mark.e2e

CONFIG = {"adapter": "inbox", "apiKey": "k-1"}
REQUIRED_HEADERS = (
    "x-bp-operation",
    "x-bot-id",
    "x-bot-user-id",
    "x-integration-id",
    "x-integration-alias",
    "x-webhook-id",
    "x-bp-configuration",
)


class StubIntegration:
    """Records what it receives; answers per operation."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((dict(request.headers), body))
        operation = request.headers["x-bp-operation"]
        if operation == "action_triggered" and body["type"] == "explode":
            return web.json_response({"id": "err_1", "code": 400, "type": "Runtime", "message": "boom"}, status=400)
        if operation == "action_triggered":
            return web.json_response({"output": {"echo": body["input"]}, "meta": {"cost": 0}})
        if operation == "webhook_received":
            return web.Response(status=303, body=b'{"seen":true}', headers={"location": "https://x.test/done"})
        return web.json_response({})


@pytest.fixture
async def stub() -> AsyncIterator[tuple[StubIntegration, str]]:
    """The stub on a real socket and its URL."""
    integration = StubIntegration()
    app = web.Application()
    app.router.add_post("/{tail:.*}", integration.handle)
    async with _serving(app) as server:
        yield integration, str(server.make_url("/"))


@asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[TestServer]:
    """``app`` on a real local socket, closed after."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def _forwarding(runtime: SandboxRuntime) -> web.Application:
    """The webhook route of the sandbox's server, forwarding to ``runtime``."""
    app = web.Application()
    app.router.add_route("*", "/webhook/{webhook_id}{tail:.*}", runtime.forward_webhook)
    return app


@pytest.fixture
async def runtime(botpress: Botpress, stub: tuple[StubIntegration, str]) -> AsyncIterator[SandboxRuntime]:
    """A runtime side pointed at the stub."""
    await botpress.create_user({}, "Sandbox bot", ident=IDENTITY.bot_user_id)
    async with httpx.AsyncClient(trust_env=False) as http:
        yield SandboxRuntime(
            http, botpress, integration_url=stub[1], webhook_base_url="https://pub.example.test", configuration=CONFIG
        )


async def test_register_sends_the_sdk_headers_and_the_webhook_url(
    runtime: SandboxRuntime, stub: tuple[StubIntegration, str]
) -> None:
    await runtime.register()
    headers, body = stub[0].received[0]
    assert all(headers.get(name) for name in REQUIRED_HEADERS)
    assert headers["x-bp-operation"] == "register"
    assert headers["x-bot-id"] == IDENTITY.bot_id and headers["x-webhook-id"] == IDENTITY.webhook_id
    assert json.loads(base64.b64decode(headers["x-bp-configuration"])) == CONFIG
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", headers["traceparent"])
    assert body == {"webhookUrl": f"https://pub.example.test/webhook/{IDENTITY.webhook_id}"}
    assert runtime.activity.registration == "registered"


async def test_actions_return_their_output_and_errors_carry_the_integrations_message(runtime: SandboxRuntime) -> None:
    assert await runtime.call_action("createUser", {"name": "Ann"}) == {"echo": {"name": "Ann"}}
    with pytest.raises(IntegrationCallError) as raised:
        await runtime.call_action("explode", {})
    assert (raised.value.status, raised.value.error_type, raised.value.message) == (400, "Runtime", "boom")


async def test_bot_messages_in_the_integrations_conversations_become_message_created(
    runtime: SandboxRuntime, botpress: Botpress, stub: tuple[StubIntegration, str]
) -> None:
    botpress.subscribe(runtime)
    ticket = await botpress.create_conversation("hitl", {"id": "T-1"}, IDENTITY.integration_alias)
    chat = await botpress.create_conversation("channel", {}, "sandbox-chat")
    for conversation in (ticket, chat):
        await botpress.create_message(
            conversation["id"], IDENTITY.bot_user_id, "text", {"text": "hi"}, {}, by_integration=False
        )
    agent = await botpress.create_user({"id": "A1"}, "Bob")
    await botpress.create_message(ticket["id"], agent["id"], "text", {"text": "from agent"}, {}, by_integration=True)
    sent = [(h["x-bp-operation"], b) for h, b in stub[0].received]
    assert len(sent) == 1
    operation, body = sent[0]
    assert operation == "message_created"
    assert set(body) == {"type", "payload", "conversation", "message", "user"}
    assert body["conversation"]["id"] == ticket["id"] and body["message"]["direction"] == "outgoing"
    assert body["user"]["id"] == IDENTITY.bot_user_id


async def test_webhooks_are_forwarded_and_the_answer_relayed(
    runtime: SandboxRuntime, stub: tuple[StubIntegration, str]
) -> None:
    async with (
        _serving(_forwarding(runtime)) as server,
        httpx.AsyncClient(trust_env=False, follow_redirects=False) as http,
    ):
        url = server.make_url(f"/webhook/{IDENTITY.webhook_id}/events/new?src=desk&a=1")
        posted = await http.post(str(url), content=b'{"x":1}', headers={"X-Desk-Sig": "abc"})
        got = await http.get(str(server.make_url(f"/webhook/{IDENTITY.webhook_id}")))
    assert posted.status_code == 303 and posted.headers["location"] == "https://x.test/done"
    assert posted.content == b'{"seen":true}'
    (_, first), (_, second) = [(h, b["req"]) for h, b in stub[0].received]
    assert first == {
        "method": "POST",
        "path": "/events/new",
        "query": "src=desk&a=1",
        "headers": first["headers"],
        "body": '{"x":1}',
    }
    assert first["headers"]["x-desk-sig"] == "abc"
    assert second["method"] == "GET" and second["path"] == "/" and "body" not in second
    assert got.status_code == 303


@pytest.mark.parametrize(
    ("sent", "relayed"),
    [
        # UTF-8, CRLF and spacing come through as they were sent: the integration's body_bytes are the vendor's bytes.
        ('{ "t": "Grüße ✓ €",\r\n  "n": 1 }\n  '.encode(), '{ "t": "Grüße ✓ €",\r\n  "n": 1 }\n  '),
        # Invalid UTF-8 becomes U+FFFD, one per maximal ill-formed subpart, as Node's Buffer#toString('utf8') makes
        # it: such a body can no longer match a signature over the original bytes (the vendor's request is refused).
        (b'\xff{"a":"\xc3"}\xe2\x9c!', '\ufffd{"a":"\ufffd"}\ufffd!'),
    ],
)
async def test_webhook_bodies_are_relayed_as_the_runtime_decodes_them(
    runtime: SandboxRuntime, stub: tuple[StubIntegration, str], sent: bytes, relayed: str
) -> None:
    async with _serving(_forwarding(runtime)) as server, httpx.AsyncClient(trust_env=False) as http:
        await http.post(str(server.make_url(f"/webhook/{IDENTITY.webhook_id}/events")), content=sent)
    ((_, body),) = stub[0].received
    assert body["req"]["body"] == relayed
    request = WebhookRequest.model_validate(body["req"])
    assert (request.body_bytes == sent) is (relayed.encode() == sent)
