"""The queue agents triage with: unread counts (gone once the conversation is opened), the state in words,
sort by waiting time, search in message text, and the waiting count in the title and the top bar."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, sign_in

pytestmark = pytest.mark.browser
FIRST_IS = "(name) => document.querySelector('#queue a .name')?.innerText === name"


async def test_unread_counts_clear_when_the_conversation_is_opened(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id, session_id = await console_server.handoff("Jane Doe", "First")
    await console_server.user_says(bp_conversation_id, session_id, "text", {"text": "Are you there?"})
    await console_server.user_says(bp_conversation_id, session_id, "text", {"text": "Hello??"})
    queue = page.get_by_role("navigation", name="Conversations")
    item = queue.get_by_role("link", name="Jane Doe")
    await item.get_by_text(re.compile(r"^\d+ unread$")).wait_for()
    assert "Waiting" in await item.inner_text()
    await item.click()
    await page.get_by_role("log").get_by_text("Hello??").wait_for()
    await item.get_by_text(re.compile(r"unread")).wait_for(state="detached")


async def test_sort_by_waiting_and_search_in_message_text(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    await console_server.handoff("Omar Haddad", "Where is my parcel?")
    await console_server.handoff("Mei Lin", "Change my address")
    queue = page.get_by_role("navigation", name="Conversations")
    await queue.get_by_role("link", name="Mei Lin").wait_for()
    await page.wait_for_function("document.title === '(2) Inbox'")
    assert await page.get_by_text("2 waiting").is_visible()

    await page.get_by_label("Sort").select_option(label="Longest waiting")
    await page.wait_for_function(FIRST_IS, arg="Omar Haddad")
    await page.get_by_label("Sort").select_option(label="Last activity")
    await page.wait_for_function(FIRST_IS, arg="Mei Lin")

    await page.get_by_label("Search").fill("PARCEL")
    await queue.get_by_role("link", name="Mei Lin").wait_for(state="detached")
    assert await queue.get_by_role("link").count() == 1
    assert await queue.get_by_role("link", name="Omar Haddad").is_visible()
