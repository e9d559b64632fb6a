"""The sandbox drives the real integration (on the fake desk) through the real protocol over real HTTP.

One server on a real socket: the integration, the emulated Runtime API, the runtime side, the plugin and the bot.
The end user talks through the chat page's JSON endpoints; the helpdesk talks through signed webhooks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bp_modules.hitl import HitlText
from external_adapters import register_adapter
from integration.app_keys import ADAPTER_BACKENDS
from integration.sandbox import SANDBOX, Sandbox
from integration.sandbox.bot import WELCOME, WELCOME_BACK
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from integration.settings import Settings
from tests.fakes import SIGNATURE_HEADER, FakeAdapter, FakeDesk, FakeHarness, sign
from tests.live import free_port, live_app

pytestmark = pytest.mark.e2e


@dataclass
class Running:
    """A running server and what the test needs of it."""

    http: httpx.AsyncClient
    sandbox: Sandbox
    desk: FakeDesk

    async def chat(self, session: dict[str, str], text: str) -> None:
        """The end user sends ``text``; wait until the bot side has dealt with it."""
        response = await self.http.post("/sandbox/chat/messages", json={**session, "text": text})
        assert response.status_code == 201, response.text
        await self.sandbox.idle()

    async def transcript(self, session: dict[str, str]) -> list[tuple[str, str]]:
        """``(from, text)`` of every message of the user's conversation, oldest first."""
        botpress = self.sandbox.botpress
        messages = await botpress.messages.select({"conversationId": session["conversationId"]})
        return [((await self.sandbox.feed.view(m))["from"], str(m["payload"].get("text"))) for m in messages]

    async def desk_event(self, **event: Any) -> httpx.Response:
        """The fake desk calls the webhook URL it was given at register."""
        url = self.desk.subscriptions[self.sandbox.botpress.identity.bot_id] + "/events"
        body = json.dumps({"events": [event]})
        headers = {SIGNATURE_HEADER: sign(FakeHarness.secret, body), "content-type": "application/json"}
        response = await self.http.post(url, content=body, headers=headers)
        await self.sandbox.idle()
        return response

    def ticket(self) -> str:
        """The one ticket the desk holds."""
        (ticket,) = self.desk.sessions
        return ticket


async def _start(tmp_path: Path, plugin: dict[str, Any] | None = None) -> AsyncIterator[Running]:
    register_adapter(FakeAdapter, clobber=True)
    port = free_port()
    settings = Settings(
        host="127.0.0.1",
        port=port,
        adapter="fake",
        console=False,
        sandbox=True,
        data_dir=tmp_path,
        sandbox_configuration={"adapter": "fake", "secret": FakeHarness.secret},
        retry_max_wait_seconds=0,
        sandbox_plugin=plugin or {},
    )
    async with live_app(settings) as (app, http):
        desk = app[ADAPTER_BACKENDS]["fake"]
        assert isinstance(desk, FakeDesk)
        yield Running(http, app[SANDBOX].value, desk)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """The server with the default plugin configuration."""
    async for value in _start(tmp_path):
        yield value


async def _session(running: Running, name: str = "Ann") -> dict[str, str]:
    started = (await running.http.post("/sandbox/chat/start", json={"name": name})).json()
    return {"userId": started["userId"], "conversationId": started["conversationId"]}


def _sent_texts(desk: FakeDesk) -> list[str]:
    """The text of every message delivered to the desk; each one must be a text message."""
    texts = []
    for sent in desk.sent:
        assert isinstance(sent.message, HitlText)
        texts.append(sent.message.text)
    return texts


async def test_register_subscribes_the_desk_to_this_bots_webhook_url(running: Running) -> None:
    url = running.desk.subscriptions[running.sandbox.botpress.identity.bot_id]
    assert url.endswith(f"/webhook/{running.sandbox.botpress.identity.webhook_id}")


async def test_complete_handoff_agent_joins_replies_and_closes(running: Running) -> None:
    session = await _session(running)
    await running.chat(session, "hello")
    await running.chat(session, "I want to talk to a human please")
    ticket = running.ticket()
    opened = running.desk.sessions[ticket]["request"]
    assert [(m.source.type, m.payload.text) for m in opened.transcript.messages][:2] == [
        ("user", "hello"),
        ("bot", WELCOME),
    ]
    await running.chat(session, "my parcel is late")
    assert _sent_texts(running.desk) == ["my parcel is late"]

    assert (await running.desk_event(kind="assign", session=ticket, agentName="Bob", key="a1")).status_code == 200
    await running.desk_event(kind="reply", session=ticket, text="Hi Ann, checking", message="c1", key="r1")
    await running.desk_event(kind="close", session=ticket, key="x1")
    await running.chat(session, "thanks")

    assert await running.transcript(session) == [
        ("user", "hello"),
        ("bot", WELCOME),
        ("user", "I want to talk to a human please"),
        ("bot", DEFAULT_TEXTS["on_hitl_handoff_message"]),
        ("user", "my parcel is late"),
        ("bot", DEFAULT_TEXTS["on_human_agent_assigned_message"]),
        ("agent", "Hi Ann, checking"),
        ("bot", DEFAULT_TEXTS["on_hitl_stopped_message"]),
        ("bot", WELCOME_BACK),
        ("user", "thanks"),
        ("bot", "I am only a small scripted bot. Type 'human' (or /human) to talk to a person."),
    ]
    assert running.desk.sessions[ticket]["status"] == "open"  # the agent closed it on the desk; no stopHitl


async def test_the_user_ends_the_session_with_the_close_command(running: Running) -> None:
    session = await _session(running)
    await running.chat(session, "/human")
    ticket = running.ticket()
    await running.chat(session, "  /END ")
    texts = _sent_texts(running.desk)
    assert texts == [DEFAULT_TEXTS["on_user_hitl_cancelled_message"]]
    assert running.desk.sessions[ticket]["status"] == "closed"
    transcript = await running.transcript(session)
    assert transcript[-2:] == [("bot", DEFAULT_TEXTS["on_user_hitl_close_message"]), ("bot", WELCOME_BACK)]


async def test_messages_after_the_session_are_not_relayed(running: Running) -> None:
    session = await _session(running)
    await running.chat(session, "agent please")
    ticket = running.ticket()
    await running.desk_event(kind="close", session=ticket, key="x1")
    await running.desk_event(kind="reply", session=ticket, text="late reply", message="c9", key="r9")
    await running.chat(session, "hello again")
    assert ("agent", "late reply") not in await running.transcript(session)
    assert running.desk.sent == []


async def test_webhooks_for_another_webhook_id_are_not_found(running: Running) -> None:
    response = await running.http.post("/webhook/not-ours/events", content=b"{}")
    assert response.status_code == 404
    assert response.json()["type"] == "ResourceNotFound"


async def test_a_bad_signature_is_relayed_as_the_integrations_answer(running: Running) -> None:
    url = running.desk.subscriptions[running.sandbox.botpress.identity.bot_id] + "/events"
    response = await running.http.post(url, content=b'{"events": []}', headers={SIGNATURE_HEADER: "0" * 64})
    assert 400 <= response.status_code < 500


@pytest.fixture
async def configured(tmp_path: Path) -> AsyncIterator[Running]:
    """The server with texts changed (handoff suppressed by NULL) and a one-hour assignment timeout."""
    plugin = {
        "onHitlHandoffMessage": "NULL",
        "onHumanAgentAssignedMessage": "Bob is here.",
        "onAgentAssignedTimeoutMessage": "Nobody came, sorry.",
        "agentAssignedTimeoutSeconds": 3600,
    }
    async for value in _start(tmp_path, plugin):
        yield value


async def test_configured_texts_and_null_suppression(configured: Running) -> None:
    session = await _session(configured)
    await configured.chat(session, "human")
    await configured.desk_event(kind="assign", session=configured.ticket(), key="a1")
    assert await configured.transcript(session) == [("user", "human"), ("bot", "Bob is here.")]


async def test_assignment_timeout_closes_the_ticket_and_the_bot_takes_over(configured: Running) -> None:
    session = await _session(configured)
    await configured.chat(session, "human")
    ticket, plugin = configured.ticket(), configured.sandbox.plugin
    started = (await plugin.session(session["conversationId"]) or {})["startedAt"]
    downstream = (await plugin.session(session["conversationId"]) or {})["downstreamConversationId"]
    await plugin.assignment_timeout(session["conversationId"], downstream, started)  # too early: nothing happens
    assert configured.desk.sessions[ticket]["status"] == "open"
    plugin._clock = lambda: started + 3600
    await plugin.assignment_timeout(session["conversationId"], downstream, started)
    assert configured.desk.sessions[ticket]["status"] == "closed"
    assert _sent_texts(configured.desk) == [DEFAULT_TEXTS["on_user_hitl_cancelled_message"]]
    assert (await configured.transcript(session))[-2:] == [("bot", "Nobody came, sorry."), ("bot", WELCOME_BACK)]


async def test_a_second_handoff_reuses_the_linked_user_and_sends_the_history(running: Running) -> None:
    session = await _session(running)
    await running.chat(session, "human")
    first = running.ticket()
    await running.desk_event(kind="close", session=first, key="x1")
    await running.chat(session, "human again")
    assert len(running.desk.sessions) == 2
    assert running.desk.calls.count("create_user") == 1
    (second,) = set(running.desk.sessions) - {first}
    history = running.desk.sessions[second]["request"].transcript.messages
    texts = [(m.source.type, m.payload.text) for m in history]
    # As in Botpress, the history is taken after the handoff message, so it ends with it.
    assert texts[-2:] == [("user", "human again"), ("bot", DEFAULT_TEXTS["on_hitl_handoff_message"])]
    assert len(texts) == 6


async def test_a_failing_start_is_told_to_the_user(running: Running) -> None:
    session = await _session(running)
    running.desk.sessions.clear()
    original = FakeAdapter.open_session

    async def refuse(self: FakeAdapter, request: Any) -> str:
        raise RuntimeError("desk down")

    FakeAdapter.open_session = refuse  # type: ignore[method-assign]
    try:
        await running.chat(session, "human")
    finally:
        FakeAdapter.open_session = original  # type: ignore[method-assign]
    last = (await running.transcript(session))[-1]
    assert last[0] == "bot" and last[1].startswith("Sorry, I could not reach a human agent")
    assert await running.sandbox.plugin.session(session["conversationId"]) is None


async def _round(running: Running, session: dict[str, str], n: int, known: set[str]) -> str:
    """One complete handoff: ask, agent joins and replies, user answers, agent closes; the round's ticket."""
    await running.chat(session, f"human please, round {n}")
    (ticket,) = set(running.desk.sessions) - known
    await running.desk_event(kind="assign", session=ticket, agentName="Bob", key=f"a{n}")
    await running.desk_event(kind="reply", session=ticket, text=f"agent says {n}", message=f"c{n}", key=f"r{n}")
    await running.chat(session, f"user says {n}")
    await running.desk_event(kind="close", session=ticket, key=f"x{n}")
    return ticket


async def test_a_second_and_a_third_handoff_in_one_chat_each_get_a_new_conversation(running: Running) -> None:
    # The plugin relays agent messages upstream as {type, ...payload}; the next startHitl passes them back verbatim
    # in messageHistory. A strict model refused every second handoff with "payload.type: Extra inputs".
    session = await _session(running)
    await running.chat(session, "hello")
    tickets: list[str] = []
    for n in (1, 2, 3):
        tickets.append(await _round(running, session, n, set(tickets)))
    conversations = [running.desk.sessions[ticket]["conversation"] for ticket in tickets]
    assert len(set(conversations)) == 3 and None not in conversations
    assert _sent_texts(running.desk) == ["user says 1", "user says 2", "user says 3"]
    assert [m.external_session_id for m in running.desk.sent] == tickets
    transcript = await running.transcript(session)
    assert [text for who, text in transcript if who == "agent"] == ["agent says 1", "agent says 2", "agent says 3"]
    third = running.desk.sessions[tickets[2]]["request"].transcript.messages
    relayed = [m.payload.text for m in third if m.source.type == "bot"]
    assert {"agent says 1", "agent says 2"} <= set(relayed)


async def test_an_agent_message_is_relayed_as_the_plugin_relays_it_and_comes_back_in_the_history(
    running: Running,
) -> None:
    # hitl-behaviour.md 2.4: upstream payload {...payload, type, userId: <webchat user> | undefined}; additionalData
    # stays in it (and becomes a tag). The next startHitl gets that payload back verbatim in messageHistory.
    session = await _session(running)
    await running.chat(session, "human")
    first = running.ticket()
    await running.desk_event(kind="reply", session=first, text="Hi", message="c1", key="r1", additionalData='{"k":1}')
    messages = await running.sandbox.botpress.messages.select({"conversationId": session["conversationId"]})
    (relayed,) = [m for m in messages if m["payload"].get("text") == "Hi"]
    assert relayed["payload"] == {"type": "text", "text": "Hi", "additionalData": '{"k":1}'}
    await running.desk_event(kind="close", session=first, key="x1")
    await running.chat(session, "human again")
    (second,) = set(running.desk.sessions) - {first}
    history = running.desk.sessions[second]["request"].transcript.messages
    assert ("bot", "Hi") in [(m.source.type, m.payload.text) for m in history]
