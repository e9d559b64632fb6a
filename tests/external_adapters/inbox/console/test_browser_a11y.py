"""axe-core finds no serious or critical accessibility violation on the sign-in form, the queue and an open
conversation, at 1440 and at 390 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.a11y_scan import axe_violations, describe, require_axe
from tests.browser import new_page

from .browser_app import ConsoleServer, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1440, 390])
async def test_no_serious_violations_on_sign_in_queue_and_conversation(
    console_server: ConsoleServer, browser: Any, width: int
) -> None:
    require_axe()
    page = await new_page(browser, width=width)
    await page.goto(console_server.base_url + "/console")
    await page.get_by_role("button", name="Sign in").wait_for()
    await page.get_by_role("button", name="Sign in").click()  # empty: the alert shows too
    assert (found := await axe_violations(page)) == [], describe(found)

    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id, session_id = await console_server.handoff("Jane Doe", "See https://example.com/x please")
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Jane Doe").wait_for()
    assert (found := await axe_violations(page)) == [], describe(found)

    await page.goto(console_server.base_url + f"/console/sessions/{session_id}")
    await page.get_by_role("button", name="Claim").first.click()
    await page.get_by_role("textbox", name="Reply").fill("Hello")
    await page.get_by_role("textbox", name="Reply").press("Enter")
    await page.get_by_role("log").get_by_text("Hello", exact=True).wait_for()
    await console_server.user_says(bp_conversation_id, session_id, "image", {"imageUrl": "https://example.com/a.png"})
    await page.get_by_role("log").get_by_role("img").wait_for()
    assert (found := await axe_violations(page)) == [], describe(found)

    await page.get_by_role("button", name="Keyboard shortcuts").click()
    await page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    assert (found := await axe_violations(page)) == [], describe(found)
