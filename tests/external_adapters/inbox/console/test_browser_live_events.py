"""The console's side of the team signals, with the live events injected into a real socket: delivery states
with Retry, "Bob is typing…", a transfer's toast and bell notice, and the claim race's words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, sign_in

pytestmark = pytest.mark.browser
BOB = {"id": "agt_bob", "name": "Bob"}


class Injector:
    """Relays the console's live socket to the server, and sends extra server events to the page."""

    def __init__(self) -> None:
        self.route: Any = None

    def __call__(self, route: Any) -> None:
        self.route = route
        route.connect_to_server()

    def send(self, event_type: str, data: Any) -> None:
        assert self.route is not None, "the live socket is not open"
        self.route.send(json.dumps({"type": event_type, "data": data}))


async def _console(server: ConsoleServer, browser: Any, claim: bool = True) -> tuple[Any, Injector, str]:
    page, injector = await new_page(browser), Injector()
    await page.route_web_socket("**/console/api/live", injector)
    await sign_in(page, server.base_url + "/console")
    _, session_id = await server.handoff("Jane Doe", "Hello?")
    await page.goto(server.base_url + f"/console/sessions/{session_id}")
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    if claim:
        await page.get_by_role("main").get_by_role("button", name="Claim").click()
        await page.get_by_role("button", name="Resolve").wait_for()
    return page, injector, session_id


async def test_delivery_states_show_with_retry(console_server: ConsoleServer, browser: Any) -> None:
    page, injector, session_id = await _console(console_server, browser)
    await page.get_by_role("textbox", name="Reply").fill("Are you still there?")
    await page.get_by_role("button", name="Send").click()
    row = page.locator('.msg.agent:not([data-message^="pending-"])', has_text="Are you still there?")
    message_id = await row.get_attribute("data-message")
    first = await page.get_by_role("log").locator(".msg").first.element_handle()
    failed = {"sessionId": session_id, "messageId": message_id, "delivery": "failed"}
    injector.send("delivery", {**failed, "deliveryError": "Botpress no longer knows this conversation"})
    await row.get_by_text("Failed: Botpress no longer knows this conversation").wait_for()
    await row.get_by_role("button", name="Retry").wait_for()
    injector.send("delivery", {**failed, "delivery": "delivered", "deliveryError": None})
    await row.get_by_text("Delivered").wait_for()
    assert await row.get_by_role("button", name="Retry").count() == 0
    # The log changed in place: its other messages are the same nodes (not announced again by the live region).
    assert await first.evaluate("node => node.isConnected")


async def test_typing_shows_who_types(console_server: ConsoleServer, browser: Any) -> None:
    page, injector, session_id = await _console(console_server, browser)
    injector.send("typing", {"sessionId": session_id, "agent": BOB})
    await page.get_by_text("Bob is typing…").wait_for()


async def test_a_transfer_to_me_shows_a_toast_and_a_notice(console_server: ConsoleServer, browser: Any) -> None:
    page, injector, session_id = await _console(console_server, browser, claim=False)
    me = {"id": "agt_me", "name": "agent"}
    injector.send("transfer", {"sessionId": session_id, "from": BOB, "to": me, "contactName": "Jane Doe"})
    await page.get_by_role("status").get_by_text("Bob transferred Jane Doe to you").wait_for()
    await page.get_by_role("button", name="Notifications").click()
    await page.locator("#notices").get_by_role("link", name="Bob transferred Jane Doe to you").wait_for()


async def test_a_lost_claim_race_says_who_took_it(console_server: ConsoleServer, browser: Any) -> None:
    page, _, _ = await _console(console_server, browser, claim=False)
    lost = json.dumps({"error": "Bob took this conversation", "code": 409})
    await page.route(
        "**/console/api/sessions/*/claim",
        lambda route: route.fulfill(status=409, body=lost, content_type="application/json"),
    )
    await page.get_by_role("main").get_by_role("button", name="Claim").click()
    await page.get_by_role("status").get_by_text("Bob took this conversation").wait_for()
