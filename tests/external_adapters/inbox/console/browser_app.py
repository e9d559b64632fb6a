"""What the console's browser tests share: the real app on a loopback port with Botpress mocked, and helpers.

The end-user side is driven by requests shaped like the runtime's; the inbox's signed events go to the
installation's webhook URL (mocked), and a relay posts them back as ``webhook_received``, as Botpress does.
The fixtures are re-exported by this directory's ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import itertools
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

WEBHOOK_URL = "https://webhook.test/wh_01JTESTWEBHOOK"
ADMIN_EMAIL, ADMIN_PASSWORD = "agent@example.com", "browser-test-pass"
AGENT_PASSWORD = "second-agent-password"
CONFIG = {"adapter": "inbox"}
_ids = itertools.count(1)


class ConsoleServer:
    """The real app on a loopback port, with a relay standing in for Botpress's webhook forwarding."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, botpress: FakeBotpress) -> None:
        self.base_url = base_url
        self.http = http
        self.botpress = botpress

    async def operation(self, operation: str, body: Any) -> Any:
        """Call the integration as the Botpress runtime does."""
        data = body if isinstance(body, str) else json.dumps(body)
        async with self.http.post(self.base_url + "/", data=data, headers=runtime_headers(operation, CONFIG)) as r:
            text = await r.text()
            assert r.status == 200, text
            return json.loads(text)

    async def action(self, name: str, action_input: Any) -> Any:
        """Run a hitl action (createUser, startHitl, stopHitl...) and return its output."""
        return (await self.operation("action_triggered", action_body(name, action_input)))["output"]

    async def new_user(self, name: str) -> str:
        """A Botpress user for an end user named ``name``: its user id."""
        email = f"{name.split()[0].lower()}@example.com"
        user_id: str = (await self.action("createUser", {"name": name, "email": email}))["userId"]
        return user_id

    async def handoff(
        self, name: str, text: str, title: str = "Help please", user_id: str | None = None
    ) -> tuple[str, str]:
        """An end user named ``name`` asks for a human after saying ``text``: (bp_conversation_id, session_id)."""
        user_id = user_id or await self.new_user(name)
        history = [{"source": {"type": "user", "userId": user_id}, "type": "text", "payload": {"text": text}}]
        started = await self.action("startHitl", {"userId": user_id, "title": title, "messageHistory": history})
        bp_conversation_id = started["conversationId"]
        return bp_conversation_id, self.botpress.conversations[bp_conversation_id]["tags"]["id"]

    async def user_says(self, bp_conversation_id: str, session_id: str, message_type: str, payload: Any) -> None:
        """The end user sends a message into the handed-over conversation."""
        body = message_created_body(
            bp_conversation_id=bp_conversation_id,
            external_session_id=session_id,
            bp_message_id=f"msg_01JBROWSER{next(_ids):016d}",
            message_type=message_type,
            payload=payload,
            sender_id=BOT_USER_ID,
        )
        self.botpress.seed_bot_message(json.loads(body))
        await self.operation("message_created", body)

    def texts_to_user(self, bp_conversation_id: str) -> list[str]:
        """The texts the integration asked Botpress to show in the conversation."""
        return [m["payload"].get("text", "") for m in self.botpress.messages_in(bp_conversation_id)]

    async def add_agent(self, email: str, name: str) -> None:
        """An admin creates another agent (through the console API, as the admin screens do)."""
        async with aiohttp.ClientSession() as admin:
            login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            async with admin.post(self.base_url + "/console/api/login", json=login) as r:
                token = (await r.json())["token"]
            body = {"email": email, "name": name, "password": AGENT_PASSWORD}
            headers = {"Authorization": f"Bearer {token}"}
            async with admin.post(self.base_url + "/console/api/agents", json=body, headers=headers) as r:
                assert r.status == 201, await r.text()


async def _relay(queue: asyncio.Queue[httpx.Request], server: ConsoleServer) -> None:
    while True:
        request = await queue.get()
        headers = {k: v for k, v in request.headers.items() if k.startswith("x-inbox-") or k == "content-type"}
        req = {"method": "POST", "path": "/", "query": "", "headers": headers, "body": request.content.decode()}
        await server.operation("webhook_received", webhook_body(req))


def _options() -> dict[str, Any]:
    return {
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "templates": [
            {"shortcut": "hello", "title": "Greeting", "text": "Hello {{contactName}}, I am {{agentName}}."},
            {"shortcut": "bye", "text": "Have a nice day!"},
        ],
        "delivery_base_seconds": 0.2,
    }


@pytest.fixture
async def console_server(
    tmp_path: Path, bp_api: BotpressMockRouter, fake_botpress: FakeBotpress
) -> AsyncIterator[ConsoleServer]:
    """The app with the inbox and its console, registered with (mocked) Botpress."""
    relayed: asyncio.Queue[httpx.Request] = asyncio.Queue()

    def hook(request: httpx.Request) -> httpx.Response:
        relayed.put_nowait(request)
        return httpx.Response(200)

    bp_api.route(method="POST", host="webhook.test").mock(side_effect=hook)
    settings = root_conftest.test_settings(
        tmp_path,
        adapter="inbox",
        console=True,
        port=0,
        bp_token=SecretStr("bp_pat_TEST0123456789abcdefTOKEN"),
        adapter_options={"inbox": _options()},
    )
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as http:
        server = ConsoleServer(f"http://127.0.0.1:{runner.addresses[0][1]}", http, fake_botpress)
        relay = asyncio.create_task(_relay(relayed, server))
        await server.operation("register", {"webhookUrl": WEBHOOK_URL})
        try:
            yield server
        finally:
            relay.cancel()
            await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium (Playwright ``Browser``)."""
    async with chromium() as running:
        yield running


async def sign_in(page: Any, url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Open ``url`` signed out and sign in with the form; wait for the live channel."""
    await page.goto(url)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Live", exact=True).wait_for()


async def eventually(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Wait until ``check()`` (a condition on the server side), or fail naming ``what``."""
    for _ in range(int(seconds * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def page_errors(page: Any) -> list[str]:
    """Collect the page's uncaught script errors (a test asserts the list stays empty)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def tab_to(page: Any, text: str, *, backwards: bool = False, presses: int = 80) -> None:
    """Press Tab (Shift+Tab) until the focused element's text or label contains ``text``."""
    probe = (
        "(t) => { const e = document.activeElement; if (!e) return false;"
        " const label = e.labels && e.labels[0] ? e.labels[0].innerText : '';"
        " return ((e.innerText || '') + ' ' + (e.getAttribute('aria-label') || '') + ' ' + label).includes(t) }"
    )
    for _ in range(presses):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if await page.evaluate(probe, text):
            return
    raise AssertionError(f"Tab never reached {text!r}")
