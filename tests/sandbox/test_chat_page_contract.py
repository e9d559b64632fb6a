"""The chat page's outside contract, in a real Chromium: the names an end user (and a screen reader) finds, links,
images, timestamps, no sideways scroll at 390 px whatever the message, and 0 serious or critical axe-core violations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.a11y_scan import axe_violations, describe
from tests.browser import chromium, require_chromium
from tests.sandbox.test_handoff_flow import Running, _start

pytestmark = pytest.mark.browser
LONG_WORD = "x" * 600
LINK = "https://example.com/orders/42"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    require_chromium()
    async for value in _start(tmp_path):
        yield value


async def _chat_page(running: Running, width: int) -> AsyncIterator[Any]:
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": width, "height": 844})
        await page.goto(f"{running.http.base_url}/sandbox")
        yield page


@pytest.mark.parametrize("width", [390, 1440])
async def test_names_links_images_times_and_no_sideways_scroll(running: Running, width: int) -> None:
    from playwright.async_api import expect

    async for page in _chat_page(running, width):
        log = page.get_by_role("log")
        await expect(log).to_have_attribute("aria-live", "polite")
        await page.get_by_label("Message", exact=True).fill(f"see {LINK} please {LONG_WORD}")
        await page.get_by_role("button", name="Send", exact=True).click()
        await expect(log.get_by_role("link", name=LINK)).to_have_attribute("href", LINK, timeout=15_000)
        conversation_id = await page.evaluate(
            "JSON.parse(localStorage.getItem('hitl-bridge-sandbox-chat')).conversationId"
        )
        botpress = running.sandbox.botpress
        await botpress.create_message(
            conversation_id, botpress.identity.bot_user_id, "image",
            {"imageUrl": f"{running.http.base_url}/sandbox/static/none.png", "title": "Parcel photo"}, {},
            by_integration=False,
        )  # fmt: skip
        await expect(log.get_by_role("img", name="Parcel photo")).to_be_attached(timeout=15_000)
        stamps = await log.locator("time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
        assert stamps and all(s and s.endswith("Z") and "T" in s for s in stamps)
        wide = "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        assert await page.evaluate(wide), f"the chat page scrolls sideways at {width} px"
        violations = await axe_violations(page)
        assert not violations, describe(violations)
