"""Exactly once through lost answers and crashes: the delivery journal, settled by asking the other side.

A "crash" is an exception at the very point a kill -9 could strike (after the helpdesk or Botpress wrote, before
the bridge recorded it); a "new process" is a new app on the same data folder (the embedded journal is a SQLite
file there) or the same PostgreSQL database, with the same desk, which stands for the helpdesk's own durable data.
Every test runs on both backends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from coordination import Coordinator, JournalState
from external_adapters import ExternalRequestError, register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS, SERVICES
from integration.hitl import inbound, sessions
from integration.settings import Settings
from tests import conftest as shared
from tests.contracts.botpress import TEST_BOT_ID, BotpressMockRouter, bp_error
from tests.contracts.lost_answers import lose_answers
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk

from .test_flow import _webhook, bot_message, call, start_session

Client = TestClient[web.Request, web.Application]
MESSAGE_ID = "msg_01JONCE000000000000000000000"


@pytest.fixture
def settings(tmp_path: Path, database_url: SecretStr | None) -> Settings:
    """The test server, on the embedded backend or on a fresh PostgreSQL database."""
    register_adapter(FakeAdapter, clobber=True)
    return shared.test_settings(tmp_path, database_url=database_url)


class Crash(Exception):
    """Stands for a kill -9 at that point: nothing after it runs."""


def _coordinator(client: Client) -> Coordinator:
    return client.app[SERVICES].coordinator


def crash_once(target: Callable[..., Awaitable[Any]], when: Callable[..., bool]) -> Callable[..., Awaitable[Any]]:
    """``target``, except that its first call for which ``when(*args)`` holds raises :class:`Crash` instead."""
    crashed: list[bool] = []

    async def patched(*args: Any, **kwargs: Any) -> Any:
        if not crashed and when(*args, **kwargs):
            crashed.append(True)
            raise Crash("killed")
        return await target(*args, **kwargs)

    return patched


async def _restart(aiohttp_client: AiohttpClient, old: Client, settings: Settings, desk: FakeDesk) -> Client:
    """Stop ``old`` and start a new app on the same data folder and the same desk."""
    await old.close()
    new = await aiohttp_client(create_app(settings))
    new.app[ADAPTER_BACKENDS]["fake"] = desk  # the helpdesk outlives the bridge's process
    return new


async def test_a_lost_answer_then_the_redelivery_sends_one_message(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    desk.lose_next_answers = 1  # the desk stores the message; its answer never comes back

    assert (await call(client, "message_created", body))[0] == 500  # transient: the runtime redelivers
    assert await call(client, "message_created", body) == (200, {})

    assert [sent.bp_message_id for sent in desk.sent] == [MESSAGE_ID]
    assert fake_botpress.messages[MESSAGE_ID]["tags"]["id"] == desk.message_ids[MESSAGE_ID]
    assert desk.calls.count("send_message") == 1 and desk.calls.count("find_message") == 1


async def test_a_crash_after_the_send_is_settled_by_a_new_process_not_resent(
    aiohttp_client: AiohttpClient,
    client: Client,
    settings: Settings,
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    coordinator = _coordinator(client)
    monkeypatch.setattr(coordinator, "done", crash_once(coordinator.done, lambda key, _: key.startswith("msg:")))
    assert (await call(client, "message_created", body))[0] == 500  # sent, then killed before the journal's done

    restarted = await _restart(aiohttp_client, client, settings, desk)
    entry = await _coordinator(restarted).intent(f"msg:{TEST_BOT_ID}:{MESSAGE_ID}")
    assert entry.state is JournalState.PENDING  # what the new process finds (this intent is the next attempt)
    assert await call(restarted, "message_created", body) == (200, {})

    assert len(desk.sent) == 1
    assert fake_botpress.messages[MESSAGE_ID]["tags"]["id"] == desk.message_ids[MESSAGE_ID]


async def test_a_crash_before_the_send_sends_it_once_after_the_restart(
    aiohttp_client: AiohttpClient,
    client: Client,
    settings: Settings,
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    desk.fail_next_send = Crash("killed after the intent, before the desk got anything")
    assert (await call(client, "message_created", body))[0] == 500

    restarted = await _restart(aiohttp_client, client, settings, desk)
    assert await call(restarted, "message_created", body) == (200, {})
    assert [sent.bp_message_id for sent in desk.sent] == [MESSAGE_ID]


async def test_a_crash_after_the_ack_tag_was_journaled_acks_without_sending(
    aiohttp_client: AiohttpClient, client: Client, settings: Settings, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    assert await call(client, "message_created", body) == (200, {})
    fake_botpress.messages[MESSAGE_ID]["tags"].pop("id")  # as if the ack never reached Botpress

    restarted = await _restart(aiohttp_client, client, settings, desk)
    assert await call(restarted, "message_created", body) == (200, {})  # the runtime's redelivery, untagged
    assert len(desk.sent) == 1 and "find_message" not in desk.calls
    assert fake_botpress.messages[MESSAGE_ID]["tags"]["id"] == desk.message_ids[MESSAGE_ID]


async def test_a_definite_refusal_is_forgotten_so_a_later_attempt_sends(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    desk.fail_next_send = ExternalRequestError("fake", "POST", "/messages", 422, "refused")
    assert (await call(client, "message_created", body))[0] == 400
    assert await call(client, "message_created", body) == (200, {})
    assert len(desk.sent) == 1 and "find_message" not in desk.calls  # abandoned: new, not pending


@pytest.mark.parametrize("kind", ["assign", "close"])
@pytest.mark.parametrize("crash_point", ["before the journal's done", "before the state write"])
async def test_an_event_is_emitted_once_through_a_crash(
    client: Client, fake_botpress: FakeBotpress, monkeypatch: pytest.MonkeyPatch, kind: str, crash_point: str
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    if crash_point == "before the state write":
        monkeypatch.setattr(inbound, "save_session", crash_once(sessions.save_session, lambda *_: True))
    else:
        coordinator = _coordinator(client)
        monkeypatch.setattr(coordinator, "done", crash_once(coordinator.done, lambda key, _: key.startswith("event:")))
    webhook = _webhook({"kind": kind, "session": session_id, "key": f"{kind}-1", "agent": "a-9"})

    assert (await call(client, "webhook_received", webhook))[0] == 500  # the helpdesk redelivers
    assert (await call(client, "webhook_received", webhook))[0] == 200

    assert fake_botpress.event_types() == ["hitlAssigned" if kind == "assign" else "hitlStopped"]
    state = fake_botpress.states[("conversation", conversation_id, "hitlSession")]["payload"]
    assert state["closed"] is (kind == "close") and (kind == "close" or state["assignedAgentId"])


async def test_an_agent_assigned_again_after_another_gets_a_new_event(
    client: Client, fake_botpress: FakeBotpress
) -> None:
    _, session_id = await start_session(client, fake_botpress)
    for key, agent in (("as-1", "a-1"), ("as-2", "a-2"), ("as-3", "a-1")):
        webhook = _webhook({"kind": "assign", "session": session_id, "key": key, "agent": agent})
        assert (await call(client, "webhook_received", webhook))[0] == 200
    assert fake_botpress.event_types() == ["hitlAssigned"] * 3


async def test_an_event_botpress_refused_is_forgotten_so_the_redelivery_emits_it_without_a_check(
    client: Client, bp_api: BotpressMockRouter, fake_botpress: FakeBotpress
) -> None:
    _, session_id = await start_session(client, fake_botpress)
    lose_answers(bp_api).fail("POST", r"/v1/chat/events$", bp_error("InvalidPayload", "refused"))
    webhook = _webhook({"kind": "close", "session": session_id, "key": "close-1"})

    assert (await call(client, "webhook_received", webhook))[0] == 400
    assert (await call(client, "webhook_received", webhook))[0] == 200

    assert fake_botpress.event_types() == ["hitlStopped"]
    checks = [c for c in bp_api.calls if c.request.method == "GET" and c.request.url.path == "/v1/chat/events"]
    assert checks == []  # abandoned, so the second attempt was new, not pending
