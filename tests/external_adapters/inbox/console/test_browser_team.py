"""Two agents in two browser contexts: a transfer notifies its target (toast and bell) and lands in their queue;
an agent created meanwhile appears in the Transfer list without a reload; the loser of a claim race reads who
took it; typing shows to the other viewer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import AGENT_PASSWORD, ConsoleServer, sign_in

pytestmark = pytest.mark.browser
BOB = "bob@example.com"


async def _two_agents(server: ConsoleServer, browser: Any) -> tuple[Any, Any]:
    await server.add_agent(BOB, "Bob")
    alice, bob = await new_page(browser), await new_page(browser)
    await sign_in(alice, server.base_url + "/console")
    await sign_in(bob, server.base_url + "/console", BOB, AGENT_PASSWORD)
    return alice, bob


async def test_a_transfer_notifies_its_target(console_server: ConsoleServer, browser: Any) -> None:
    alice, bob = await _two_agents(console_server, browser)
    _, session_id = await console_server.handoff("Jane Doe", "Please help")
    await alice.goto(console_server.base_url + f"/console/sessions/{session_id}")
    await alice.get_by_role("button", name="Claim").first.click()
    await alice.get_by_role("button", name="Transfer").click()
    dialog = alice.get_by_role("dialog", name="Transfer the conversation")
    await dialog.get_by_label("Transfer to").select_option(label="Bob (available)")
    await dialog.get_by_role("button", name="Confirm transfer").click()
    await alice.get_by_role("status").get_by_text("Transferred to Bob").wait_for()

    await bob.get_by_role("status").get_by_text("transferred Jane Doe to you").wait_for()
    await bob.get_by_role("navigation", name="Conversations").get_by_role("link", name="Jane Doe").wait_for()
    await bob.get_by_role("button", name="Notifications").click()
    await bob.locator("#notices").get_by_text("transferred Jane Doe to you").wait_for()


async def test_a_new_agent_appears_in_the_transfer_list_without_a_reload(
    console_server: ConsoleServer, browser: Any
) -> None:
    alice = await new_page(browser)
    await sign_in(alice, console_server.base_url + "/console")
    _, session_id = await console_server.handoff("Jane Doe", "Please help")
    await alice.goto(console_server.base_url + f"/console/sessions/{session_id}")
    await alice.get_by_role("button", name="Claim").first.click()
    await alice.get_by_role("button", name="Transfer").click()
    await console_server.add_agent("carol@example.com", "Carol")
    select = alice.get_by_role("dialog", name="Transfer the conversation").get_by_label("Transfer to")
    await select.locator("option", has_text="Carol").wait_for(state="attached")


async def test_the_loser_of_a_claim_race_reads_who_took_it(console_server: ConsoleServer, browser: Any) -> None:
    await console_server.add_agent(BOB, "Bob")
    alice, bob = await new_page(browser), await new_page(browser)
    # Alice's live socket brings nothing, as if Bob's claim reached her late: her page still offers Claim.
    await alice.route_web_socket("**/console/api/live", lambda ws: ws.send('{"type": "hello", "data": {}}'))
    await sign_in(alice, console_server.base_url + "/console")
    await sign_in(bob, console_server.base_url + "/console", BOB, AGENT_PASSWORD)
    _, session_id = await console_server.handoff("Jane Doe", "Please help")
    for page in (alice, bob):
        await page.goto(console_server.base_url + f"/console/sessions/{session_id}")
        await page.get_by_role("heading", name="Jane Doe").wait_for()
    await bob.get_by_role("main").get_by_role("button", name="Claim").click()
    await bob.get_by_role("button", name="Resolve").wait_for()
    await alice.get_by_role("main").get_by_role("button", name="Claim").click()
    await alice.get_by_role("status").get_by_text("Bob took this conversation").wait_for()
    await alice.get_by_text("Assigned to Bob").wait_for()  # and her page shows who has it now


async def test_typing_shows_to_the_other_viewer(console_server: ConsoleServer, browser: Any) -> None:
    alice, bob = await _two_agents(console_server, browser)
    _, session_id = await console_server.handoff("Jane Doe", "Please help")
    for page in (alice, bob):
        await page.goto(console_server.base_url + f"/console/sessions/{session_id}")
        await page.get_by_role("heading", name="Jane Doe").wait_for()
    await alice.get_by_role("main").get_by_role("button", name="Claim").click()
    await alice.get_by_role("button", name="Resolve").wait_for()  # claimed: the reply box is Alice's
    await alice.get_by_role("textbox", name="Reply").press_sequentially("Let me check")
    await bob.get_by_text("agent is typing…").wait_for()


async def test_claim_and_resolve_are_disabled_while_their_request_runs(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser)
    await sign_in(page, console_server.base_url + "/console")
    _, session_id = await console_server.handoff("Jane Doe", "Please help")
    await page.goto(console_server.base_url + f"/console/sessions/{session_id}")
    main = page.get_by_role("main")
    for verb, button_name in (("claim", "Claim"), ("resolve", "Resolve")):
        release = asyncio.Event()
        await page.route(f"**/console/api/sessions/*/{verb}", _held_until(release))
        button = main.get_by_role("button", name=button_name)
        await button.click()
        assert await button.is_disabled()
        await button.click(force=True)  # a second press while the first runs does nothing
        release.set()
        await button.wait_for(state="hidden")
        await page.unroute(f"**/console/api/sessions/*/{verb}")
    assert console_server.botpress.event_types().count("hitlAssigned") == 1


def _held_until(release: asyncio.Event) -> Any:
    """A route handler that lets the request go only once ``release`` is set."""

    async def held(route: Any) -> None:
        await release.wait()
        await route.continue_()

    return held
