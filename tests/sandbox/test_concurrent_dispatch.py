"""With Botpress's concurrent dispatch, a session nobody can take still hands the user back to the bot.

The inbox ends such a session at once: its "no agents" message and its hitlStopped leave while the plugin's
startHitl is still running. The plugin drops events of a conversation it has not taken, so without the
integration's hold the user stayed in handoff mode. The sandbox's strict one-job-at-a-time order hid this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from external_adapters.inbox import InboxService
from integration.app_keys import ADAPTER_BACKENDS
from integration.sandbox import SANDBOX, Sandbox
from integration.sandbox.bot import WELCOME_BACK
from integration.sandbox.inbox import BotInbox
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from integration.settings import Settings
from tests.external_adapters.inbox.conftest import cheap_password_hashes
from tests.live import free_port, live_app

__all__ = ["cheap_password_hashes"]  # autouse here too

NO_AGENTS_TEXT = "Sorry, no agent can take this conversation."
HELD = "holding events of"


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def serving(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Sandbox, InboxService]]:
    """Sandbox + inbox with concurrent dispatch; no agent may see the sandbox's sessions."""
    settings = Settings(
        host="127.0.0.1",
        port=free_port(),
        sandbox=True,
        sandbox_concurrent_dispatch=True,
        data_dir=tmp_path,
        sandbox_configuration={"adapter": "inbox", "defaultRuleTags": ["nobody-has-this-group"]},
        adapter_options={"inbox": {"admin_email": "boss@example.com", "admin_password": "a long password"}},
    )
    async with live_app(settings) as (app, http):
        service = app[ADAPTER_BACKENDS]["inbox"]
        assert isinstance(service, InboxService)
        yield http, app[SANDBOX].value, service


def _plugin_continues_only_once_the_outcome_left(
    sandbox: Sandbox, service: InboxService, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make the race certain: the plugin's startHitl goes on (tags, hitlActive) only after the inbox's outcome
    was delivered to Botpress, or is being held by the integration until the plugin takes the session."""
    call_action = sandbox.runtime.call_action

    async def outcome_left() -> bool:
        assert service.outbox is not None
        return not await service.outbox.pending() or HELD in caplog.text

    async def slow_start(action: str, action_input: dict[str, Any]) -> dict[str, Any]:
        output = await call_action(action, action_input)
        if action == "startHitl":
            await _eventually(outcome_left, "the inbox's outcome to be delivered or held")
        return output

    monkeypatch.setattr(sandbox.runtime, "call_action", slow_start)


@pytest.mark.e2e
async def test_nobody_can_take_the_session_and_the_user_is_back_with_the_bot(
    serving: tuple[httpx.AsyncClient, Sandbox, InboxService],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http, sandbox, service = serving
    caplog.set_level(logging.INFO, logger="integration.hitl")
    _plugin_continues_only_once_the_outcome_left(sandbox, service, caplog, monkeypatch)
    chat = (await http.post("/sandbox/chat/start", json={"name": "Ann"})).json()
    sent = await http.post("/sandbox/chat/messages", json={**chat, "text": "a human please"})
    assert sent.status_code == 201, sent.text

    async def texts() -> list[str]:
        messages = await sandbox.botpress.messages.select({"conversationId": chat["conversationId"]})
        return [str(message["payload"].get("text")) for message in messages]

    async def back_with_the_bot() -> bool:
        session = await sandbox.plugin.session(chat["conversationId"])
        return session is not None and not session["active"] and WELCOME_BACK in await texts()

    await _eventually(back_with_the_bot, "the user to be back with the bot")
    assert await texts() == [
        "a human please",
        DEFAULT_TEXTS["on_hitl_handoff_message"],
        # No joined line before the apology: with the inbox the plugin runs with it off (PLUGIN_CONFIGURATION).
        NO_AGENTS_TEXT,
        DEFAULT_TEXTS["on_hitl_stopped_message"],
        WELCOME_BACK,
    ]
    session = await sandbox.plugin.session(chat["conversationId"])
    assert session is not None and session["endReason"] == "agent-closed-ticket"
    # The plugin linked both sides as the real one does; the integration waited for the downstream tag.
    upstream = await sandbox.botpress.conversations.get(chat["conversationId"])
    downstream = await sandbox.botpress.conversations.get(session["downstreamConversationId"])
    assert upstream["tags"]["hitl#downstream"] == downstream["id"]
    assert downstream["tags"]["hitl#upstream"] == upstream["id"]


@pytest.mark.parametrize("concurrent", [False, True])
async def test_the_bot_inbox_runs_jobs_in_order_or_each_at_once(concurrent: bool) -> None:
    inbox = BotInbox(concurrent=concurrent)
    inbox.start()
    first_may_end, ran = asyncio.Event(), []

    async def first() -> None:
        ran.append("first starts")
        await first_may_end.wait()
        ran.append("first ends")

    async def second() -> None:
        ran.append("second")
        first_may_end.set()

    inbox.submit(first)
    inbox.submit(second)
    if not concurrent:
        await asyncio.sleep(0)  # the worker has picked up the first job, which now waits
        first_may_end.set()
    await asyncio.wait_for(inbox.idle(), timeout=10)  # a serial inbox would wait forever on the first job
    await inbox.stop()
    expected = ["first starts", "second", "first ends"] if concurrent else ["first starts", "first ends", "second"]
    assert ran == expected
