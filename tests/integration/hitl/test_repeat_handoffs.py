"""A retried startHitl resumes its session only while that session is open; a repeat after it closed is new."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import OpenSessionRequest, UnavailableError
from tests.contracts.botpress import TEST_BOT_ID, TEST_INTEGRATION_ID
from tests.factories import action_body, webhook_body
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk, FakeHarness, FakeSession, fake_webhook
from tests.memos import change_start_record, coordinator_of, memo_key, start_record

from .test_flow import HISTORY, action, call


async def _user(client: TestClient[web.Request, web.Application], email: str = "jane@example.com") -> str:
    output = await action(client, "createUser", {"name": "Jane", "email": email})
    user_id: str = output["userId"]
    return user_id


def _start_input(user_id: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    history_for_user = json.loads(json.dumps(history or []).replace("USER", user_id))
    return {"userId": user_id, "title": "Refund", "description": "Wants a refund", "messageHistory": history_for_user}


async def _start(client: TestClient[web.Request, web.Application], start_input: dict[str, Any]) -> str:
    conversation_id: str = (await action(client, "startHitl", start_input))["conversationId"]
    return conversation_id


async def _desk_closes(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, conversation_id: str
) -> None:
    session_id = fake_botpress.conversations[conversation_id]["tags"]["id"]
    request = fake_webhook(FakeHarness.secret, {"kind": "close", "session": session_id, "key": f"close-{session_id}"})
    assert (await call(client, "webhook_received", webhook_body(request.model_dump())))[0] == 200


async def test_same_input_after_stop_hitl_opens_a_new_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    start_input = _start_input(await _user(client))  # the plugin may send an empty history every time
    first = await _start(client, start_input)
    assert await action(client, "stopHitl", {"conversationId": first}) == {}
    second = await _start(client, start_input)
    assert second != first
    assert len(desk.sessions) == 2 and len(fake_botpress.conversations) == 2
    assert desk.sessions[fake_botpress.conversations[second]["tags"]["id"]]["status"] == "open"


async def test_same_input_after_the_desk_closed_the_session_opens_a_new_one(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    start_input = _start_input(await _user(client), HISTORY)
    first = await _start(client, start_input)
    await _desk_closes(client, fake_botpress, first)
    second = await _start(client, start_input)
    assert second != first and len(desk.sessions) == 2
    assert await _start(client, start_input) == second  # and that new one is resumed while it is open


async def test_empty_history_twice_with_a_close_between_gives_two_sessions_and_two_conversations(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = await _user(client)
    conversations = []
    for _ in range(2):
        conversations.append(await _start(client, {"userId": user_id, "messageHistory": []}))
        await _desk_closes(client, fake_botpress, conversations[-1])
    assert len(set(conversations)) == 2 and len(desk.sessions) == 2
    assert fake_botpress.event_types() == ["hitlStopped", "hitlStopped"]


async def test_retry_while_open_returns_the_same_conversation_and_one_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    start_input = _start_input(await _user(client), HISTORY)
    first = await _start(client, start_input)
    session_id = fake_botpress.conversations[first]["tags"]["id"]
    assign = fake_webhook(FakeHarness.secret, {"kind": "assign", "session": session_id, "key": "as-1"})
    await call(client, "webhook_received", webhook_body(assign.model_dump()))
    for _ in range(2):
        assert await _start(client, start_input) == first
    assert len(desk.sessions) == 1 and len(fake_botpress.conversations) == 1


async def test_a_retry_after_the_helpdesk_answer_was_lost_opens_no_second_session(
    client: TestClient[web.Request, web.Application],
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = FakeAdapter.open_session

    async def opens_then_fails(self: FakeAdapter, request: OpenSessionRequest[FakeSession]) -> str:
        await opened(self, request)
        raise UnavailableError("fake", "POST", "/sessions", None, "the answer was lost")

    start_input = _start_input(await _user(client))
    with monkeypatch.context() as patched:
        patched.setattr(FakeAdapter, "open_session", opens_then_fails)
        status, _ = await call(client, "action_triggered", action_body("startHitl", start_input))
    assert status == 500 and len(desk.sessions) == 1
    conversation_id = await _start(client, start_input)
    assert len(desk.sessions) == 1
    assert fake_botpress.conversations[conversation_id]["tags"]["id"] == next(iter(desk.sessions))


async def test_only_the_attempt_that_minted_the_key_tells_the_helpdesk_it_is_new(
    client: TestClient[web.Request, web.Application],
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened, new_keys = FakeAdapter.open_session, []

    async def opens_then_fails(self: FakeAdapter, request: OpenSessionRequest[FakeSession]) -> str:
        new_keys.append(request.new_key)
        await opened(self, request)
        raise UnavailableError("fake", "POST", "/sessions", None, "the answer was lost")

    start_input = _start_input(await _user(client))
    with monkeypatch.context() as patched:
        patched.setattr(FakeAdapter, "open_session", opens_then_fails)
        for _ in range(2):  # the retry resumes the record: the helpdesk must look the key up
            status, _ = await call(client, "action_triggered", action_body("startHitl", start_input))
            assert status == 500
    assert new_keys == [True, False] and len(desk.sessions) == 1


async def test_a_retry_after_the_link_failed_opens_nothing_and_links_the_same_conversation(
    client: TestClient[web.Request, web.Application],
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fails(self: FakeAdapter, external_session_id: str, bp_conversation_id: str) -> None:
        raise UnavailableError("fake", "PUT", "/sessions", None, "the answer was lost")

    start_input = _start_input(await _user(client))
    with monkeypatch.context() as patched:
        patched.setattr(FakeAdapter, "link_session", fails)
        status, _ = await call(client, "action_triggered", action_body("startHitl", start_input))
    assert status == 500
    record = await start_record(client.app, start_input["userId"])
    assert record is not None and record.external_session_id is not None and record.conversation_id is None
    conversation_id = await _start(client, start_input)
    assert desk.calls.count("open_session") == 1 and list(fake_botpress.conversations) == [conversation_id]
    assert desk.sessions[record.external_session_id]["conversation"] == conversation_id


async def test_the_start_record_keeps_a_fresh_session_key_per_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = await _user(client)
    start_input = _start_input(user_id)
    keys = []
    for _ in range(2):
        conversation_id = await _start(client, start_input)
        record = await start_record(client.app, user_id)
        assert record is not None
        keys.append(record.session_key)
        await action(client, "stopHitl", {"conversationId": conversation_id})
    assert keys[0] != keys[1]
    assert [session["request"].idempotency_key for session in desk.sessions.values()] == keys


async def test_a_start_record_in_the_older_shape_is_read_as_absent(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = await _user(client)
    old = {"key": "0" * 32, "externalSessionId": "t-old", "conversationId": "conv_old".ljust(28, "0")}
    await coordinator_of(client.app).memo_set(memo_key(user_id), json.dumps(old), 3600)
    conversation_id = await _start(client, _start_input(user_id))
    assert fake_botpress.conversations[conversation_id]["tags"]["id"] in desk.sessions
    record = await start_record(client.app, user_id)
    assert record is not None and record.conversation_id == conversation_id


async def test_a_retry_of_a_record_hashed_in_the_older_form_resumes_its_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    # Records live 24 h: one written before the hash's canonical form changed still answers its retry.
    user_id = await _user(client)
    start_input = _start_input(user_id, HISTORY)
    first = await _start(client, start_input)
    older = json.dumps([TEST_BOT_ID, TEST_INTEGRATION_ID, start_input], sort_keys=True, default=str)
    await change_start_record(client.app, user_id, input_hash=hashlib.sha256(older.encode()).hexdigest()[:32])
    assert await _start(client, start_input) == first
    assert len(desk.sessions) == 1 and len(fake_botpress.conversations) == 1
