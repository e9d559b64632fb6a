"""An agent handles a real handoff in Chromium, against the real server, with Botpress mocked.

The end-user side is driven by requests shaped like the runtime's; the inbox's signed events go to
the installation's webhook URL (mocked), and a relay posts them back as ``webhook_received``, as
Botpress does. The test then checks what Botpress was asked to create.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from integration.app import create_app
from tests import conftest as root_conftest
from tests.browser import chromium
from tests.contracts.botpress import BotpressMockRouter
from tests.factories import BOT_USER_ID, action_body, message_created_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

pytestmark = pytest.mark.browser
WEBHOOK_URL = "https://webhook.test/wh_01JTESTWEBHOOK"
ADMIN_EMAIL, ADMIN_PASSWORD = "agent@example.com", "browser-test-pass"
SCREENSHOT_DIR = Path("/tmp")
CONFIG = {"adapter": "inbox"}


class Server:
    """The real app on a loopback port, with a relay standing in for Botpress's webhook forwarding."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.http = http

    async def operation(self, operation: str, body: Any) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        async with self.http.post(self.base_url + "/", data=data, headers=runtime_headers(operation, CONFIG)) as r:
            text = await r.text()
            assert r.status == 200, text
            return json.loads(text)

    async def action(self, name: str, action_input: Any) -> Any:
        return (await self.operation("action_triggered", action_body(name, action_input)))["output"]


async def _relay(queue: asyncio.Queue[httpx.Request], server: Server) -> None:
    while True:
        request = await queue.get()
        headers = {k: v for k, v in request.headers.items() if k.startswith("x-inbox-") or k == "content-type"}
        req = {"method": "POST", "path": "/", "query": "", "headers": headers, "body": request.content.decode()}
        await server.operation("webhook_received", webhook_body(req))


@pytest.fixture
async def server(tmp_path: Path, bp_api: BotpressMockRouter, fake_botpress: FakeBotpress) -> AsyncIterator[Server]:
    relayed: asyncio.Queue[httpx.Request] = asyncio.Queue()

    def hook(request: httpx.Request) -> httpx.Response:
        relayed.put_nowait(request)
        return httpx.Response(200)

    bp_api.route(method="POST", host="webhook.test").mock(side_effect=hook)
    options = {
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "templates": [
            {"shortcut": "hello", "title": "Greeting", "text": "Hello {{contactName}}, I am {{agentName}}."},
            {"shortcut": "bye", "text": "Have a nice day!"},
        ],
        "delivery_base_seconds": 0.2,
    }
    settings = root_conftest.test_settings(
        tmp_path,
        adapter="inbox",
        console=True,
        port=0,
        bp_token=SecretStr("bp_pat_TEST0123456789abcdefTOKEN"),
        adapter_options={"inbox": options},
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        srv = Server(f"http://127.0.0.1:{port}", http)
        relay = asyncio.create_task(_relay(relayed, srv))
        await srv.operation("register", {"webhookUrl": WEBHOOK_URL})
        try:
            yield srv
        finally:
            relay.cancel()
            await runner.cleanup()


async def _eventually(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1360, "height": 820})
        yield await context.new_page()


async def test_an_agent_handles_a_handoff_end_to_end(server: Server, page: Any, fake_botpress: FakeBotpress) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(server.base_url + "/console")
    await page.get_by_test_id("login-email").fill(ADMIN_EMAIL)
    await page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.locator("#live-state.on").wait_for()

    # The end user asks for a human: the handoff appears live, with a popup.
    user_id = (await server.action("createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    history = [
        {
            "source": {"type": "user", "userId": user_id},
            "type": "text",
            "payload": {"text": "My card 4111 1111 1111 1111 was charged twice"},
        }
    ]
    started = await server.action("startHitl", {"userId": user_id, "title": "Double charge", "messageHistory": history})
    conversation_id = started["conversationId"]
    session_id = fake_botpress.conversations[conversation_id]["tags"]["id"]
    offer = page.get_by_test_id("offer")
    await offer.wait_for()
    assert "Jane Doe" in await offer.inner_text()
    await page.locator(f'#queue li.unclaimed[data-session="{session_id}"]').wait_for()
    await page.screenshot(path=str(SCREENSHOT_DIR / "inbox-console-offer.png"))

    # Claim from the popup: the transcript shows, redacted.
    await offer.get_by_role("button", name="Claim").click()
    await page.locator("#s-title", has_text="Double charge").wait_for()
    messages = page.get_by_test_id("messages")
    await messages.get_by_text("[card number redacted]", exact=False).wait_for()
    assert "4111" not in await messages.inner_text()

    # A live message from the end user.
    body = message_created_body(
        bp_conversation_id=conversation_id,
        external_session_id=session_id,
        bp_message_id="msg_01JBROWSER000000000000000",
        message_type="text",
        payload={"text": "Are you there?", "userId": user_id},
        sender_id=BOT_USER_ID,
    )
    fake_botpress.seed_bot_message(json.loads(body))
    await server.operation("message_created", body)
    await messages.get_by_text("Are you there?").wait_for()

    # Reply with a template picked after "/".
    reply = page.get_by_test_id("reply")
    await reply.click()
    await reply.type("/hel")
    picker = page.get_by_test_id("template-picker")
    await picker.wait_for()
    assert await picker.locator("[data-shortcut]").count() == 1
    await reply.press("Enter")
    assert await reply.input_value() == "Hello Jane Doe, I am agent."
    await reply.press("Enter")
    await messages.locator("li.agent", has_text="Hello Jane Doe, I am agent.").wait_for()

    # A note and a label.
    await page.get_by_test_id("note").fill("Refund promised by e-mail")
    await page.get_by_test_id("add-note").click()
    await page.get_by_test_id("notes").get_by_text("Refund promised by e-mail").wait_for()
    await page.get_by_test_id("labels").locator('label[data-label="billing"]').click()
    await page.locator('#labels label.on[data-label="billing"]').wait_for()
    await page.screenshot(path=str(SCREENSHOT_DIR / "inbox-console-conversation.png"))

    # Resolve.
    await page.get_by_test_id("resolve").click()
    await page.locator("#s-meta", has_text="Closed: resolved").wait_for()

    def bot_texts() -> list[str]:
        return [m["payload"].get("text", "") for m in fake_botpress.messages_in(conversation_id)]

    await _eventually(lambda: "hitlStopped" in fake_botpress.event_types(), "hitlStopped")
    assert fake_botpress.event_types().count("hitlAssigned") == 1
    assert "Hello Jane Doe, I am agent." in bot_texts()
    assert "You are now chatting with agent." in bot_texts()
    assert not any("Refund promised" in text for text in bot_texts())  # notes stay internal
