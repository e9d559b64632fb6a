"""An agent handles handoffs in Chromium, against the real server, with Botpress mocked: the core loop, the
second handoff in the same chat, and the path where nobody can take it (the end user reads only the apology)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, eventually, sign_in

pytestmark = pytest.mark.browser


async def test_an_agent_handles_a_handoff_end_to_end(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    bp_conversation_id, session_id = await console_server.handoff("Jane Doe", "My card 4111 1111 1111 1111 was charged")

    # The handoff appears live, with a non-modal popup and in the queue as a link.
    offer = page.get_by_role("dialog", name="New handoff")
    await offer.wait_for()
    assert "Jane Doe" in await offer.inner_text()
    queue = page.get_by_role("navigation", name="Conversations")
    await queue.get_by_role("link", name="Jane Doe").wait_for()
    await offer.get_by_role("button", name="Claim").click()

    # Claimed: the conversation opens at its own URL, the transcript redacted.
    await page.get_by_role("heading", name="Jane Doe").wait_for()
    assert page.url.endswith(f"/console/sessions/{session_id}")
    log = page.get_by_role("log")
    await log.get_by_text("[card number redacted]", exact=False).wait_for()
    assert "4111" not in await log.inner_text()

    await console_server.user_says(bp_conversation_id, session_id, "text", {"text": "Are you there?"})
    await log.get_by_text("Are you there?").wait_for()

    # A template after "/", sent with Enter; the reply shows at once with its delivery state.
    reply = page.get_by_role("textbox", name="Reply")
    await reply.click()
    await reply.type("/hel")
    await page.get_by_test_id("template-picker").wait_for()
    await reply.press("Enter")
    assert await reply.input_value() == "Hello Jane Doe, I am agent."
    await reply.press("Enter")
    await log.get_by_text("Hello Jane Doe, I am agent.").wait_for()

    await page.get_by_role("button", name="Resolve").click()
    await log.get_by_text("Resolved", exact=False).wait_for()
    await eventually(lambda: "hitlStopped" in console_server.botpress.event_types(), "hitlStopped")
    assert "Hello Jane Doe, I am agent." in console_server.texts_to_user(bp_conversation_id)


async def test_a_second_handoff_in_the_same_chat_works_like_the_first(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    user_id = await console_server.new_user("Jane Doe")
    for round_ in ("first", "second"):
        bp_conversation_id, session_id = await console_server.handoff(
            "Jane Doe", f"My {round_} question", user_id=user_id
        )
        offer = page.get_by_role("dialog", name="New handoff")
        await offer.get_by_role("button", name="Claim").click()
        await page.wait_for_url(f"**/console/sessions/{session_id}")
        await page.get_by_role("log").get_by_text(f"My {round_} question").wait_for()
        await page.get_by_role("textbox", name="Reply").fill(f"Answer to the {round_}")
        await page.get_by_role("button", name="Send").click()
        await page.get_by_role("log").get_by_text(f"Answer to the {round_}").wait_for()
        await page.get_by_role("button", name="Resolve").click()
        await page.get_by_role("log").get_by_text("Resolved", exact=False).wait_for()
        answer, bp_id = f"Answer to the {round_}", bp_conversation_id
        await eventually(lambda: answer in console_server.texts_to_user(bp_id), "the reply")  # noqa: B023
    assert console_server.botpress.event_types().count("hitlAssigned") == 2


async def test_when_no_agent_can_take_it_the_user_reads_only_the_apology(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    await page.get_by_label("Status").select_option("offline")
    await page.wait_for_function("document.getElementById('status').dataset.status === 'offline'")
    bp_conversation_id, _ = await console_server.handoff("Omar Haddad", "Anyone there?")
    item = page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Omar Haddad")
    await item.wait_for()
    await page.wait_for_function(
        "[...document.querySelectorAll('#queue a')].some(a => /No agent (online|available)/.test(a.innerText))"
    )
    await eventually(lambda: bool(console_server.texts_to_user(bp_conversation_id)), "the apology")
    texts = console_server.texts_to_user(bp_conversation_id)
    assert not any("chatting with" in t or "joined" in t for t in texts), texts
    assert "hitlAssigned" not in console_server.botpress.event_types()
