"""The end user's paths across processes, in Chromium, with only the contract's accessible names.

The real ``hitl-bridge serve`` runs with no configuration as its own process (``served``: a free port, a fresh data
directory, no BP_TOKEN, so the sandbox and the inbox run), and must print the demo agent's login. Two pages: the
end user on ``/sandbox``, the agent on ``/console``. A handoff is claimed, answered and resolved; a second one in the
same chat works the same; and when no agent can take it (the agent went offline, or rejected it), the chat shows
the apology and no line saying that an agent joined: the inbox runs the plugin with its joined line off and says
its own on a real claim (``external_adapters.inbox.demo.PLUGIN_CONFIGURATION``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from external_adapters.inbox.config import DEFAULT_TEXTS as INBOX_TEXTS
from external_adapters.inbox.demo import DEMO_EMAIL, DEMO_NAME
from integration.sandbox.bot import WELCOME_BACK
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from tests.browser import chromium
from tests.sandbox.test_serve_browser import Served, served

__all__ = ["served"]  # the fixture
pytestmark = [pytest.mark.browser, pytest.mark.e2e]

STEP_MS = 20_000
PLUGIN_JOINED = DEFAULT_TEXTS["on_human_agent_assigned_message"]
"""The HITL plugin's joined line: off with the inbox (its hook's plugin configuration), said on no path here."""
JOINED = (INBOX_TEXTS.assigned or "").replace("{{agentName}}", DEMO_NAME)
"""The inbox's own line when an agent really claims."""
HANDOFF = DEFAULT_TEXTS["on_hitl_handoff_message"]
CONTACT = "Sandbox visitor"


async def _pages(browser: Any) -> tuple[Any, Any]:
    pages = []
    for _ in range(2):
        context = await browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(STEP_MS)
        pages.append(await context.new_page())
    return pages[0], pages[1]


async def _say(user: Any, text: str) -> None:
    await user.get_by_label("Message", exact=True).fill(text)
    await user.get_by_role("button", name="Send", exact=True).click()


async def _count(user: Any, text: str, times: int) -> None:
    from playwright.async_api import expect

    await expect(user.get_by_role("log").locator("li", has_text=text)).to_have_count(times, timeout=STEP_MS)


async def _sign_in(agent: Any, served: Served) -> None:
    from playwright.async_api import expect

    await agent.goto(f"{served.base_url}/console")
    await agent.get_by_label("Email", exact=True).fill(served.printed("Console e-mail"))
    await agent.get_by_label("Password", exact=True).fill(served.printed("Console password"))
    await agent.get_by_role("button", name="Sign in", exact=True).click()
    await expect(agent.get_by_role("button", name="Sign out", exact=True)).to_be_visible(timeout=STEP_MS)


async def _open_waiting(agent: Any) -> None:
    """Open the contact's waiting session from the queue (its link's name starts with the contact's name)."""
    queue = agent.get_by_role("navigation", name="Conversations")
    await queue.get_by_role("link", name=re.compile(f"^{CONTACT}.*Waiting")).click()


def _pane(agent: Any) -> Any:
    """The open conversation (the offer popup has Claim and Reject buttons of its own)."""
    return agent.get_by_role("main")


async def _claim_reply_resolve(user: Any, agent: Any, text: str, times: int) -> None:
    from playwright.async_api import expect

    await _open_waiting(agent)
    await _pane(agent).get_by_role("button", name="Claim", exact=True).click()
    await _count(user, JOINED, times)
    await _count(user, PLUGIN_JOINED, 0)
    await _pane(agent).get_by_role("textbox", name="Reply", exact=True).fill(text)
    await _pane(agent).get_by_role("button", name="Send", exact=True).click()
    await expect(user.get_by_role("log").get_by_text(text)).to_be_visible(timeout=STEP_MS)
    agent.once("dialog", lambda dialog: dialog.accept())  # a confirmation, if the console asks for one
    await _pane(agent).get_by_role("button", name="Resolve", exact=True).click()
    await _count(user, WELCOME_BACK, times)


async def test_serve_with_no_configuration_prints_the_demo_login(served: Served) -> None:
    assert served.printed("Console e-mail") == DEMO_EMAIL and len(served.printed("Console password")) >= 12
    assert served.printed("Agent console") == f"{served.base_url}/console"


async def test_two_handoffs_in_one_chat_are_claimed_answered_and_resolved(served: Served) -> None:
    async with chromium() as browser:
        user, agent = await _pages(browser)
        await _sign_in(agent, served)
        await user.goto(f"{served.base_url}/sandbox")
        for times, reply in ((1, "Hello, I am here to help."), (2, "Hello again, same agent.")):
            await _say(user, "human")
            await _count(user, HANDOFF, times)
            await _claim_reply_resolve(user, agent, reply, times)


async def test_an_offline_agent_means_only_the_apology(served: Served) -> None:
    async with chromium() as browser:
        user, agent = await _pages(browser)
        await _sign_in(agent, served)
        await agent.get_by_label("Status", exact=True).select_option("offline")
        await user.goto(f"{served.base_url}/sandbox")
        await _say(user, "human")
        await _count(user, INBOX_TEXTS.not_available or "", 1)
        await _count(user, WELCOME_BACK, 1)
        await _count(user, JOINED, 0)
        await _count(user, PLUGIN_JOINED, 0)


async def test_a_rejected_handoff_means_only_the_apology(served: Served) -> None:
    async with chromium() as browser:
        user, agent = await _pages(browser)
        await _sign_in(agent, served)
        await user.goto(f"{served.base_url}/sandbox")
        await _say(user, "human")
        await _count(user, HANDOFF, 1)
        await _open_waiting(agent)
        await _pane(agent).get_by_role("button", name="Reject", exact=True).click()
        await _count(user, INBOX_TEXTS.rejected or "", 1)
        await _count(user, WELCOME_BACK, 1)
        await _count(user, JOINED, 0)
        await _count(user, PLUGIN_JOINED, 0)
