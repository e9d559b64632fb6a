"""The chat page in a real Chromium: a user chats, asks for a human, sees the agent's reply live, then the bot again.

The server runs in the test's event loop on a real socket (the integration on the fake desk); the agent side
is the fake desk's signed webhooks. Chromium is Debian's, driven by Playwright.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integration.sandbox.bot import WELCOME, WELCOME_BACK
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from tests.browser import chromium, require_chromium
from tests.sandbox.test_handoff_flow import Running, _sent_texts, _start

pytestmark = pytest.mark.browser


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """The server (integration + sandbox on the fake desk)."""
    require_chromium()  # before starting a server for nothing
    async for value in _start(tmp_path):
        yield value


@pytest.fixture
async def page(running: Running) -> AsyncIterator[Any]:
    """A Chromium page."""
    async with chromium() as browser:
        yield await browser.new_page()


async def _say(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def _see(page: Any, who: str, text: str) -> None:
    from playwright.async_api import expect

    await expect(page.locator(f"#messages li[data-from='{who}']", has_text=text).last).to_be_visible(timeout=15_000)


async def test_a_user_hands_off_sees_the_agent_live_and_gets_the_bot_back(running: Running, page: Any) -> None:
    await page.goto(f"{running.http.base_url}/sandbox")
    await _say(page, "hello")
    await _see(page, "bot", WELCOME)
    await _say(page, "I need a human")
    await _see(page, "bot", DEFAULT_TEXTS["on_hitl_handoff_message"])
    await running.sandbox.idle()  # the plugin says it before it calls startHitl: wait for the ticket
    ticket = running.ticket()

    await running.desk_event(kind="assign", session=ticket, agentName="Bob", key="a1")
    await _see(page, "bot", DEFAULT_TEXTS["on_human_agent_assigned_message"])
    await _say(page, "where is my parcel?")
    await _see(page, "user", "where is my parcel?")  # stored, so its relay is queued
    await running.sandbox.idle()
    await running.desk_event(kind="reply", session=ticket, text="It ships today.", message="c1", key="r1")
    await _see(page, "agent", "It ships today.")
    await running.desk_event(kind="close", session=ticket, key="x1")
    await _see(page, "bot", WELCOME_BACK)

    assert _sent_texts(running.desk) == ["where is my parcel?"]
    assert await page.locator("#messages li[data-from='agent'] .who").first.inner_text() == "Bob"
