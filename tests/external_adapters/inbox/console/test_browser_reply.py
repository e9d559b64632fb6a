"""The agent's own reply shows at once from the send's answer, whatever the live socket does; a send that
never reached the server shows as failed, and Retry sends it (once)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, eventually, sign_in

pytestmark = pytest.mark.browser


async def _claimed(server: ConsoleServer, page: Any) -> str:
    bp_conversation_id, session_id = await server.handoff("Jane Doe", "Hello?")
    await page.goto(server.base_url + f"/console/sessions/{session_id}")
    await page.get_by_role("button", name="Claim").first.click()
    await page.get_by_role("button", name="Resolve").wait_for()
    return bp_conversation_id


async def test_a_reply_shows_while_the_live_socket_delivers_nothing(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser)

    def deaf_socket(ws: Any) -> None:  # the live channel opens, says hello, then nothing ever comes
        ws.send(json.dumps({"type": "hello", "data": {"agentId": "?"}}))

    await page.route_web_socket("**/console/api/live", deaf_socket)
    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id = await _claimed(console_server, page)
    await page.get_by_role("textbox", name="Reply").fill("Seen without the live socket")
    await page.get_by_role("button", name="Send").click()
    rows = page.get_by_role("log").locator(".msg.agent", has_text="Seen without the live socket")
    await rows.first.wait_for()  # at once, as "Sending…"
    # then as the server's message, from the send's answer (the socket brings nothing)
    await page.locator('.msg.agent:not([data-message^="pending-"])', has_text="Seen without").wait_for()
    assert await rows.count() == 1
    await eventually(lambda: "Seen without the live socket" in console_server.texts_to_user(bp_conversation_id), "it")


async def test_a_send_that_failed_is_retried_with_retry(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id = await _claimed(console_server, page)
    keys: list[str] = []

    async def network_down(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        await route.abort()

    await page.route("**/console/api/sessions/*/messages", network_down)
    await page.get_by_role("textbox", name="Reply").fill("Sent on the second try")
    await page.get_by_role("button", name="Send").click()
    row = page.get_by_role("log").locator(".msg.agent", has_text="Sent on the second try")
    await row.get_by_text("Failed: the server cannot be reached", exact=False).wait_for()

    await page.unroute("**/console/api/sessions/*/messages")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.headers.get("idempotency-key", "")) if r.method == "POST" else None)
    await row.get_by_role("button", name="Retry").click()
    await row.get_by_text("Failed", exact=False).wait_for(state="detached")
    await eventually(lambda: "Sent on the second try" in console_server.texts_to_user(bp_conversation_id), "it")
    assert console_server.texts_to_user(bp_conversation_id).count("Sent on the second try") == 1
    assert keys[0] and keys[0] in sent  # the retry carried the first attempt's Idempotency-Key
