"""Long words and URLs wrap (no sideways scroll at 1440 or 390 px), messages carry <time> and dir="auto", links
are real links; at 390 px the queue and the conversation are two screens. Saves the docs' screenshots."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import new_page, no_sideways_scroll, screenshot_dir

from .browser_app import ConsoleServer, page_errors, sign_in

pytestmark = pytest.mark.browser

LONG_URL = "https://example.com/" + "a" * 400 + "?ref=" + "b" * 200
LONG_WORD = "x" * 3000


async def _busy_console(server: ConsoleServer, page: Any) -> tuple[str, str]:
    """A signed-in console with a claimed conversation holding a long word and a long URL, and two more waiting."""
    await sign_in(page, server.base_url + "/console")
    bp_conversation_id, session_id = await server.handoff("Jane Doe", f"Look at {LONG_URL} please")
    await page.goto(server.base_url + f"/console/sessions/{session_id}")
    await page.get_by_role("button", name="Claim").first.click()
    await page.get_by_role("button", name="Resolve").wait_for()
    await server.handoff("Omar Haddad", "Where is my parcel? It was due yesterday.", title="Late parcel")
    await server.handoff("Mei Lin", "I want to change the address of my order", title="Address change")
    await page.get_by_role("dialog", name="New handoff").nth(1).wait_for()
    await page.locator("#queue a", has_text="Mei Lin").wait_for(state="attached")
    await page.get_by_role("textbox", name="Reply").fill("Hello Jane, I am looking at the page you sent.")
    await page.get_by_role("button", name="Send").click()
    await page.get_by_role("log").get_by_text("I am looking at the page you sent.").wait_for()
    return bp_conversation_id, session_id


async def _long_word(server: ConsoleServer, page: Any, bp_conversation_id: str, session_id: str) -> None:
    await server.user_says(bp_conversation_id, session_id, "text", {"text": LONG_WORD})
    await page.get_by_role("log").get_by_text(LONG_WORD[:50], exact=False).wait_for()


@pytest.mark.parametrize("width", [1440, 390])
async def test_long_text_and_urls_wrap_without_sideways_scroll(
    console_server: ConsoleServer, browser: Any, width: int
) -> None:
    page = await new_page(browser, width=width, height=900)
    errors = page_errors(page)
    bp_conversation_id, session_id = await _busy_console(console_server, page)
    await page.screenshot(path=str(screenshot_dir() / f"console-conversation-{width}.png"))
    await _long_word(console_server, page, bp_conversation_id, session_id)
    log = page.get_by_role("log")
    assert await log.get_attribute("aria-live") == "polite"
    link = log.get_by_role("link", name=LONG_URL)
    assert await link.get_attribute("href") == LONG_URL
    assert await link.get_attribute("rel") == "noopener noreferrer"
    assert await link.get_attribute("target") == "_blank"
    assert await log.locator("time[datetime]").count() >= 2
    assert await log.locator('[dir="auto"]').count() >= 2
    assert await no_sideways_scroll(page)
    await _offers_leave_the_reply_box_free(page)
    for name in ("Resolve", "Transfer", "Sign out"):
        assert await page.get_by_role("button", name=name).is_visible(), name
    assert errors == []


async def test_at_390_px_the_queue_and_the_conversation_are_two_screens(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser, width=390, height=844)
    await _busy_console(console_server, page)
    queue = page.get_by_role("navigation", name="Conversations")
    assert not await queue.is_visible()
    await page.get_by_role("link", name="Back to the queue").click()
    await queue.get_by_role("link", name="Omar Haddad").wait_for()
    await queue.get_by_role("link", name="Mei Lin").wait_for()
    assert not await page.get_by_role("log").is_visible()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(screenshot_dir() / "console-queue-390.png"))
    await queue.get_by_role("link", name="Mei Lin").click()
    await page.get_by_role("heading", name="Mei Lin").wait_for()
    assert await no_sideways_scroll(page)


async def test_the_queue_at_1440_px(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser, width=1440, height=900)
    await _busy_console(console_server, page)
    queue = page.get_by_role("navigation", name="Conversations")
    item = queue.get_by_role("link", name="Omar Haddad")
    await queue.get_by_role("link", name="Mei Lin").wait_for()
    assert "Late parcel" in await item.inner_text() or "parcel" in await item.inner_text()
    assert "waiting" in await item.inner_text()
    await page.wait_for_function("document.title === '(2) Inbox'")
    await page.screenshot(path=str(screenshot_dir() / "console-queue-1440.png"))


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def _offers_leave_the_reply_box_free(page: Any) -> None:
    """The two waiting handoffs' popups count down and never cover the reply box nor the conversation's buttons,
    wherever the page scrolls."""
    offers = page.get_by_role("dialog", name="New handoff")
    assert await offers.count() == 2
    assert re.search(r"Claim within [45]:\d\d", await offers.first.inner_text())
    free = [page.get_by_role("textbox", name="Reply"), page.get_by_role("button", name="Resolve")]
    free += [page.get_by_role("button", name=name) for name in ("Send", "Attach", "Transfer")]
    for _ in range(2):
        for control in free:
            await control.scroll_into_view_if_needed()
            box = await control.bounding_box()
            for index in range(2):
                assert not _overlap(await offers.nth(index).bounding_box(), box)
        await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
