"""What the README promises a newcomer, in a real browser: ``hitl-bridge serve`` on a fresh machine, then a chat page
and an agent console to watch a complete handoff.

The real console script runs as its own process on a free port, with a fresh data directory and no BP_TOKEN (so the
sandbox and the inbox run, with the console). The test reads the demo agent's credentials from what ``serve``
prints, then drives two Chromium pages: the end user on ``/sandbox`` and the agent on ``/console``. Handoff, claim,
messages both ways, resolve, and the bot answering again; then a second handoff in the same chat, whose history
carries the first session's relayed agent message (the payload the HITL plugin wrote, ``type`` inside).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from external_adapters.inbox.demo import DEMO_EMAIL, DEMO_NAME
from integration.sandbox.bot import WELCOME, WELCOME_BACK
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from tests.browser import chromium, require_chromium
from tests.live import free_port
from tests.sandbox.test_chat_browser import _say, _see

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SCREENSHOTS = Path("/tmp")
START_SECONDS = 60.0
STEP_MS = 20_000
VIEWPORT = {"width": 1280, "height": 800}


@dataclass
class Served:
    """A running ``hitl-bridge serve`` and what it printed."""

    base_url: str
    stdout: list[str] = field(default_factory=list)

    def printed(self, label: str) -> str:
        """The value of a ``  <label>: value`` line of the start-up output."""
        prefix = f"  {label}:"
        values = [line[len(prefix) :].strip() for line in self.stdout if line.startswith(prefix)]
        assert len(values) == 1, f"expected one {label!r} line in:\n" + "\n".join(self.stdout)
        return values[0]


def _console_script() -> Path:
    script = Path(sys.executable).parent / "hitl-bridge"
    assert script.exists(), f"{script} is missing: install the project (pip install -e .) in this environment"
    return script


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    async for raw in stream:
        lines.append(raw.decode(errors="replace").rstrip("\n"))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """``hitl-bridge serve`` as a newcomer runs it, until its integration is registered and it printed a login."""
    require_chromium()  # before starting a server for nothing
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    env |= {"HITL_BRIDGE_PORT": str(port), "HITL_BRIDGE_HOST": "127.0.0.1", "HITL_BRIDGE_DATA_DIR": str(tmp_path)}
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(_console_script()), "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=log
        )
    assert process.stdout is not None
    served = Served(f"http://127.0.0.1:{port}")
    reader = asyncio.create_task(_collect(process.stdout, served.stdout))
    try:
        try:
            await asyncio.wait_for(_ready(served, process), START_SECONDS)
        except TimeoutError:
            output = "\n".join(served.stdout)
            raise AssertionError(f"not registered with a demo login after {START_SECONDS}s:\n{output}") from None
        yield served
    finally:
        await _stop(process)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        print("serve's log (tail):\n" + log_path.read_text(errors="replace")[-4000:])  # shown when a test fails


async def _ready(served: Served, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"serve exited with {process.returncode} (its log is printed below)")
            try:
                status = (await http.get(f"{served.base_url}/sandbox/chat/status")).json()
            except (httpx.HTTPError, ValueError):
                status = {}
            if status.get("registration") == "registered" and any("Console password:" in s for s in served.stdout):
                return
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _pages(browser: Any) -> tuple[Any, Any]:
    """The end user's and the agent's pages, each in its own browser context (own cookies and storage)."""
    pages = []
    for _ in range(2):
        context = await browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(STEP_MS)
        pages.append(await context.new_page())
    user, agent = pages
    agent.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # "Resolve this conversation?"
    return user, agent


async def _sign_in(agent: Any, served: Served) -> None:
    from playwright.async_api import expect

    await agent.goto(f"{served.base_url}/console")
    await agent.get_by_test_id("login-email").fill(served.printed("Console e-mail"))
    await agent.get_by_test_id("login-password").fill(served.printed("Console password"))
    await agent.get_by_test_id("login-submit").click()
    await expect(agent.locator('#live-state[data-state="live"]')).to_be_attached(timeout=STEP_MS)
    await expect(agent.locator("#me")).to_contain_text(DEMO_NAME, timeout=STEP_MS)


async def _shoot(user: Any, agent: Any, step: str) -> None:
    await user.screenshot(path=str(SCREENSHOTS / f"sandbox-serve-{step}-user.png"))
    await agent.screenshot(path=str(SCREENSHOTS / f"sandbox-serve-{step}-agent.png"))


def _text_of(path: Path) -> str:
    return path.read_text(errors="replace")


async def test_serve_prints_the_demo_login_once_and_never_logs_it(served: Served, tmp_path: Path) -> None:
    assert served.printed("Console e-mail") == DEMO_EMAIL
    password = served.printed("Console password")
    assert len(password) >= 12
    assert [line for line in served.stdout if password in line] == [f"  Console password:    {password}"]
    log = _text_of(tmp_path / "serve.log")
    assert "sandbox: integration registered" in log and password not in log
    assert served.printed("Agent console") == f"{served.base_url}/console"
    assert served.printed("Sandbox chat page") == f"{served.base_url}/sandbox"


async def test_a_newcomer_watches_two_complete_handoffs_in_the_chat_page_and_the_console(served: Served) -> None:
    from playwright.async_api import expect

    async with chromium() as browser:
        user, agent = await _pages(browser)
        await _sign_in(agent, served)

        # The user chats with the bot, then asks for a human.
        await user.goto(f"{served.base_url}/sandbox")
        await _say(user, "hello")
        await _see(user, "bot", WELCOME)
        await _say(user, "can I talk to a human?")
        await _see(user, "bot", DEFAULT_TEXTS["on_hitl_handoff_message"])

        # The handoff appears live in the console: a popup and an unclaimed queue item.
        offer = agent.get_by_test_id("offer")
        await expect(offer).to_be_visible(timeout=STEP_MS)
        await expect(agent.locator("#queue li.unclaimed")).to_have_count(1, timeout=STEP_MS)
        await _shoot(user, agent, "1-handoff")

        # The agent claims it: the transcript shows, and the user is told an agent joined.
        await offer.get_by_role("button", name="Claim").click()
        await expect(agent.locator("#s-meta")).to_contain_text("Sandbox chat with Sandbox visitor", timeout=STEP_MS)
        messages = agent.get_by_test_id("messages")
        await expect(messages.locator(".msg.transcript", has_text="can I talk to a human?")).to_be_visible()
        await _see(user, "agent", f"You are now chatting with {DEMO_NAME}.")
        await _see_times(user, "bot", DEFAULT_TEXTS["on_human_agent_assigned_message"], 0)  # the inbox's line only

        # Messages both ways.
        await agent.get_by_test_id("reply").fill("Hello! I am looking at your order now.")
        await agent.get_by_test_id("reply").press("Enter")
        await _see(user, "agent", "Hello! I am looking at your order now.")
        reply = user.locator("#messages li[data-from='agent']", has_text="looking at your order")
        await expect(reply.locator(".who")).to_have_text(DEMO_NAME)
        await _say(user, "Thanks, it is order 1234.")
        await expect(messages.locator(".msg.user", has_text="Thanks, it is order 1234.")).to_be_visible(timeout=STEP_MS)
        await _shoot(user, agent, "2-conversation")

        # The agent resolves: the user is told, and the bot answers again.
        await agent.get_by_test_id("resolve").click()
        await expect(agent.locator("#s-meta")).to_contain_text("Resolved", timeout=STEP_MS)
        await _see(user, "bot", DEFAULT_TEXTS["on_hitl_stopped_message"])
        await _see(user, "bot", WELCOME_BACK)
        await _say(user, "what are your opening hours?")
        await _see(user, "bot", "We are open Monday to Friday")
        calls = user.locator("#calls")  # the runtime's operations, as the page's side panel lists them
        for operation in ("action createUser", "action startHitl", "webhook_received", "message_created"):
            await expect(calls).to_contain_text(operation, timeout=STEP_MS)
        await _shoot(user, agent, "3-resolved")
        await _second_handoff(user, agent)


async def _see_times(page: Any, who: str, text: str, times: int) -> None:
    from playwright.async_api import expect

    found = page.locator(f"#messages li[data-from='{who}']", has_text=text)
    await expect(found).to_have_count(times, timeout=STEP_MS)


async def _second_handoff(user: Any, agent: Any) -> None:
    """The same chat asks again after the first session was resolved: a new session, and it works both ways."""
    from playwright.async_api import expect

    await _say(user, "sorry, a human again please")
    await _see_times(user, "bot", DEFAULT_TEXTS["on_hitl_handoff_message"], 2)
    offer = agent.get_by_test_id("offer")
    await expect(offer).to_be_visible(timeout=STEP_MS)
    await offer.get_by_role("button", name="Claim").click()
    # The new session's transcript holds the first session's agent message, relayed back in messageHistory.
    messages = agent.get_by_test_id("messages")
    await expect(messages.locator(".msg.transcript", has_text="looking at your order")).to_be_visible(timeout=STEP_MS)
    await expect(messages.locator(".msg.transcript", has_text="a human again please")).to_be_visible()
    await expect(agent.locator("#s-meta")).not_to_contain_text("Resolved", timeout=STEP_MS)
    await _see_times(user, "agent", f"You are now chatting with {DEMO_NAME}.", 2)

    await agent.get_by_test_id("reply").fill("Back again? Happy to help.")
    await agent.get_by_test_id("reply").press("Enter")
    await _see(user, "agent", "Back again? Happy to help.")
    await _say(user, "It is about order 5678 now.")
    await expect(messages.locator(".msg.user", has_text="order 5678")).to_be_visible(timeout=STEP_MS)
    await _shoot(user, agent, "4-second-handoff")

    await agent.get_by_test_id("resolve").click()
    await expect(agent.locator("#s-meta")).to_contain_text("Resolved", timeout=STEP_MS)
    await _see_times(user, "bot", DEFAULT_TEXTS["on_hitl_stopped_message"], 2)
    await _see_times(user, "bot", WELCOME_BACK, 2)
