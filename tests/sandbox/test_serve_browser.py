"""``hitl-bridge serve`` with no configuration, as a real process: the chat page hands off to the inbox adapter.

A fresh data directory and no BP_TOKEN, so the sandbox and the inbox adapter are on. Chromium chats on /sandbox
and asks for a human; the runtime side's log shows ``createUser`` and ``startHitl`` answered by the integration.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.sandbox.bot import WELCOME
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from tests.sandbox.test_chat_browser import CHROMIUM, CHROMIUM_ARGS, _say, _see
from tests.sandbox.test_handoff_flow import free_port

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _console_ready() -> bool:
    spec = importlib.util.find_spec("integration.console")
    return spec is not None and spec.origin is not None


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    """``python -m integration serve`` on a free port; its base URL once the integration is registered."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    env |= {"HITL_BRIDGE_PORT": str(port), "HITL_BRIDGE_HOST": "127.0.0.1", "HITL_BRIDGE_DATA_DIR": str(tmp_path)}
    if not _console_ready():
        env["HITL_BRIDGE_CONSOLE"] = "false"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "integration",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _registered(base, process)
        yield base
    finally:
        process.terminate()
        await process.wait()


async def _registered(base: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        for _ in range(300):
            if process.returncode is not None:
                output = await process.stdout.read() if process.stdout else b""
                raise AssertionError(f"serve exited with {process.returncode}:\n{output.decode()[-3000:]}")
            try:
                status = (await http.get(f"{base}/sandbox/chat/status")).json()
            except (httpx.HTTPError, ValueError):
                status = {}
            if status.get("registration") == "registered":
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the integration never registered")


async def test_serve_gives_a_chat_page_that_hands_off_to_the_inbox(server: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page: Any = await browser.new_page()
            await page.goto(f"{server}/sandbox")
            await _say(page, "hello")
            await _see(page, "bot", WELCOME)
            await _say(page, "can I talk to a human?")
            await _see(page, "bot", DEFAULT_TEXTS["on_hitl_handoff_message"])
        finally:
            await browser.close()
    async with httpx.AsyncClient(trust_env=False) as http:
        for _ in range(100):
            calls = (await http.get(f"{server}/sandbox/chat/status")).json()["calls"]
            if any(call["detail"] == "action startHitl" for call in calls):
                break
            await asyncio.sleep(0.1)
    answered = {call["detail"]: call["status"] for call in calls}
    assert answered["action createUser"] == 200
    assert answered["action startHitl"] == 200
