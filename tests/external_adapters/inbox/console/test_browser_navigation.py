"""Every conversation has its own URL (deep link, reload, Back); a whole handoff runs with the keyboard alone
(Tab and Enter: open from the queue, claim, reply, resolve); the shortcuts and their help dialog."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, eventually, page_errors, sign_in, tab_to

pytestmark = pytest.mark.browser


async def test_a_deep_link_survives_sign_in_and_reload(console_server: ConsoleServer, browser: Any) -> None:
    _, first = await console_server.handoff("Jane Doe", "First question")
    _, second = await console_server.handoff("Omar Haddad", "Second question")
    page = await new_page(browser)
    errors = page_errors(page)
    await sign_in(page, console_server.base_url + f"/console/sessions/{second}")
    await page.get_by_role("heading", name="Omar Haddad").wait_for()
    await page.reload()
    await page.get_by_role("heading", name="Omar Haddad").wait_for()
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Jane Doe").click()
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    assert page.url.endswith(f"/console/sessions/{first}")
    await page.go_back()
    await page.get_by_role("heading", name="Omar Haddad").wait_for()
    await page.goto(console_server.base_url + f"/console/#/sessions/{first}")  # the hash form opens it too
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    assert errors == []


async def test_a_whole_handoff_with_tab_and_enter_only(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id, _ = await console_server.handoff("Jane Doe", "Help me, please")
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Jane Doe").wait_for()
    await page.keyboard.press("Escape")
    await tab_to(page, "Jane Doe")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    await tab_to(page, "Claim")
    await page.keyboard.press("Enter")
    reply = page.get_by_role("textbox", name="Reply")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'reply'")
    await page.keyboard.type("Typed without a mouse")
    await page.keyboard.press("Enter")
    await page.get_by_role("log").get_by_text("Typed without a mouse").wait_for()
    assert await reply.input_value() == ""
    await tab_to(page, "Resolve", backwards=True)
    await page.keyboard.press("Enter")
    await page.get_by_role("log").get_by_text("Resolved", exact=False).wait_for()
    await eventually(lambda: "Typed without a mouse" in console_server.texts_to_user(bp_conversation_id), "reply")


async def test_shortcuts_open_claim_reply_and_resolve(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    await console_server.handoff("Jane Doe", "Shortcut question")
    await page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Jane Doe").wait_for()
    await page.locator("body").focus()
    await page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await help_dialog.wait_for()
    await page.keyboard.press("Escape")
    await help_dialog.wait_for(state="hidden")
    await page.keyboard.press("n")
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    await page.keyboard.press("c")
    await page.get_by_role("button", name="Resolve").wait_for()
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'reply'")  # claimed
    await page.evaluate("document.activeElement.blur()")
    await page.keyboard.press("r")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'reply'")
    await page.keyboard.type("e stays text here")  # a shortcut key typed in a field is text
    assert await page.get_by_role("textbox", name="Reply").input_value() == "e stays text here"
    await page.evaluate("document.activeElement.blur()")
    await page.keyboard.press("e")
    await page.get_by_role("log").get_by_text("Resolved", exact=False).wait_for()


async def test_signing_out_in_one_tab_signs_out_the_others(console_server: ConsoleServer, browser: Any) -> None:
    first = await new_page(browser)
    await sign_in(first, console_server.base_url + "/console")
    second = await first.context.new_page()
    await second.goto(console_server.base_url + "/console")
    await second.get_by_role("button", name="Sign out").wait_for()
    await first.get_by_role("button", name="Sign out").click()
    await second.get_by_role("button", name="Sign in").wait_for()
    await first.get_by_role("button", name="Sign in").wait_for()
