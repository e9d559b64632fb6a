"""hitl orchestration through the real HTTP edge, a stateful fake Botpress and the fake desk."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import FAKE_CONFIG
from tests.factories import action_body, message_created_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeDesk, FakeHarness, fake_webhook
from tests.memos import cached_end_user, change_start_record, forget_end_user

HISTORY = [
    {"source": {"type": "bot"}, "type": "text", "payload": {"text": "Hi! How can I help?"}},
    {"source": {"type": "user", "userId": "USER"}, "type": "text", "payload": {"text": "I want a refund"}},
    {
        "source": {"type": "bot"},
        "type": "choice",
        "payload": {"text": "Pick", "options": [{"label": "Yes", "value": "y"}]},
    },
]


async def call(client: TestClient[web.Request, web.Application], operation: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    response = await client.post("/", data=data, headers=runtime_headers(operation, FAKE_CONFIG))
    return response.status, json.loads(await response.text())


async def action(client: TestClient[web.Request, web.Application], name: str, action_input: Any) -> Any:
    status, body = await call(client, "action_triggered", action_body(name, action_input))
    assert status == 200, body
    assert body["meta"] == {"cost": 0}
    return body["output"]


async def start_session(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, email: str = "jane@example.com"
) -> tuple[str, str]:
    """createUser + startHitl; returns (bp conversation id, desk session id)."""
    user_id = (await action(client, "createUser", {"name": "Jane", "email": email}))["userId"]
    history = json.loads(json.dumps(HISTORY).replace("USER", user_id))
    output = await action(client, "startHitl", {"userId": user_id, "title": "Refund", "messageHistory": history})
    conversation_id = output["conversationId"]
    return conversation_id, fake_botpress.conversations[conversation_id]["tags"]["id"]


async def test_create_user_links_both_sides(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    output = await action(
        client, "createUser", {"name": "Jane", "email": "jane@example.com", "pictureUrl": "https://p/j.png"}
    )
    user = fake_botpress.users[output["userId"]]
    ((desk_user_id, desk_user),) = desk.users.items()
    assert user["tags"] == {"email": "jane@example.com", "id": desk_user_id}
    assert desk_user["external_id"] == output["userId"]


async def test_create_user_is_idempotent_per_email(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    first = await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"})
    again = await action(client, "createUser", {"name": "Jane D.", "email": "jane@example.com"})
    other = await action(client, "createUser", {"name": "Joe", "email": "joe@example.com"})
    assert first == again != other
    assert len(desk.users) == 2 and len(fake_botpress.users) == 2


async def test_start_hitl_opens_a_session_and_links_it(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    conversation = fake_botpress.conversations[conversation_id]
    assert conversation["channel"] == "hitl" and conversation["tags"] == {"id": session_id}
    session = desk.sessions[session_id]
    assert session["conversation"] == conversation_id
    transcript = session["request"].transcript
    assert "I want a refund" in transcript.text and "Pick" in transcript.text and "Jane" in transcript.text
    assert session["request"].end_user.email == "jane@example.com"


async def test_retried_start_hitl_opens_one_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    request = {"userId": user_id, "title": "Refund", "messageHistory": []}
    first = await action(client, "startHitl", request)
    assert await action(client, "startHitl", request) == first
    assert len(desk.sessions) == 1 and desk.calls.count("open_session") == 1
    assert len(fake_botpress.conversations) == 1


async def test_start_hitl_resumes_after_a_crash_between_ticket_and_conversation(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    request = {"userId": user_id, "title": "Refund", "messageHistory": []}
    first = await action(client, "startHitl", request)
    # Forget the conversation id, as if the first attempt died right after opening the ticket.
    await change_start_record(client.app, user_id, conversation_id=None)
    assert await action(client, "startHitl", request) == first
    assert len(desk.sessions) == 1


async def test_a_new_start_hitl_opens_a_new_session(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    await start_session(client, fake_botpress)
    user_id = next(iter(fake_botpress.users))
    await action(client, "startHitl", {"userId": user_id, "title": "Another", "messageHistory": []})
    assert len(desk.sessions) == 2


def _relayed_history(user_id: str) -> list[dict[str, Any]]:
    """What the HITL plugin sends on a second handoff: earlier payloads verbatim, with its own and channel keys."""
    user = {"type": "user", "userId": user_id}
    return [
        {"source": user, "type": "text", "payload": {"text": "my order", "metadata": {"webchat": {"tz": "UTC"}}}},
        {"source": {"type": "bot"}, "type": "text", "payload": {"type": "text", "text": "Hi, Bob here"}},
        {"source": user, "type": "image", "payload": {"type": "image", "imageUrl": "https://x/i.png", "userId": "u9"}},
    ]


async def test_start_hitl_takes_the_history_the_plugin_relays_on_a_second_handoff(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    start = {
        "userId": user_id,
        "title": "Again",
        "messageHistory": _relayed_history(user_id),
        "hitlSession": {"priority": "high", "cardOnlyKey": True},
        "keyOfANewerSdk": 1,
    }
    conversation_id = (await action(client, "startHitl", start))["conversationId"]
    request = desk.sessions[fake_botpress.conversations[conversation_id]["tags"]["id"]]["request"]
    assert request.options.priority == "high"
    assert [m.type for m in request.transcript.messages] == ["text", "text", "image"]
    assert "Hi, Bob here" in request.transcript.text


async def test_in_a_relayed_history_a_wrong_type_is_still_a_400_naming_the_field(
    client: TestClient[web.Request, web.Application],
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    history = [*_relayed_history(user_id), {"source": {"type": "bot"}, "type": "text", "payload": {"type": "text"}}]
    status, body = await call(
        client, "action_triggered", action_body("startHitl", {"userId": user_id, "messageHistory": history})
    )
    assert status == 400 and body["type"] == "InvalidPayload", body
    assert "input.messageHistory.3.payload.text" in body["message"]


async def test_start_hitl_for_an_unlinked_user_is_a_clear_400(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    unlinked = await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"})
    fake_botpress.users[unlinked["userId"]]["tags"].pop("id")
    await forget_end_user(client.app, unlinked["userId"])  # as if another installation's createUser had made it
    status, body = await call(
        client, "action_triggered", action_body("startHitl", {"userId": unlinked["userId"], "messageHistory": []})
    )
    assert status == 400 and body["type"] == "Runtime" and "not linked" in body["message"]
    status, body = await call(
        client,
        "action_triggered",
        action_body("startHitl", {"userId": "user_nobody00000000000000000000", "messageHistory": []}),
    )
    assert status == 400 and "does not exist" in body["message"]


async def test_start_hitl_reads_the_user_when_the_memo_of_create_user_is_gone(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    assert await cached_end_user(client.app, user_id) is not None
    fake_botpress.users[user_id]["name"] = "Jane Doe"  # renamed in Botpress meanwhile: only a read can know
    await forget_end_user(client.app, user_id)
    await action(client, "startHitl", {"userId": user_id, "messageHistory": []})
    (session,) = desk.sessions.values()
    assert session["request"].end_user.name == "Jane Doe"
    assert session["request"].end_user.external_user_id == fake_botpress.users[user_id]["tags"]["id"]
    assert await cached_end_user(client.app, user_id) is not None  # kept again, for the retries


async def test_start_hitl_uses_the_user_create_user_linked_without_reading_it(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    fake_botpress.users[user_id]["name"] = "Jane Doe"  # a read would see this; the memo of createUser does not
    await action(client, "startHitl", {"userId": user_id, "messageHistory": []})
    (session,) = desk.sessions.values()
    assert session["request"].end_user.name == "Jane" and session["request"].end_user.email == "jane@example.com"


async def test_stop_hitl_closes_once(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    assert await action(client, "stopHitl", {"conversationId": conversation_id}) == {}
    assert await action(client, "stopHitl", {"conversationId": conversation_id}) == {}
    assert desk.sessions[session_id]["status"] == "closed"
    assert desk.calls.count("close_session") == 1


async def test_stop_hitl_without_a_session_is_a_no_op(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    assert await action(client, "stopHitl", {"conversationId": "conv_missing000000000000000000000"}) == {}
    assert desk.calls.count("close_session") == 0


def bot_message(
    fake_botpress: FakeBotpress | None,
    conversation_id: str,
    session_id: str,
    message_id: str,
    kind: str,
    payload: dict[str, Any],
) -> str:
    """A message_created body for a message the bot wrote (held by the fake Botpress when given)."""
    body = message_created_body(
        bp_conversation_id=conversation_id,
        external_session_id=session_id,
        bp_message_id=message_id,
        message_type=kind,
        payload=payload,
    )
    if fake_botpress is not None:
        fake_botpress.seed_bot_message(json.loads(body))
    return body


HITL_PAYLOADS = [
    ("text", {"type": "text", "text": "hello", "userId": "END_USER"}),
    ("image", {"imageUrl": "https://m/cat.png", "title": "cat"}),
    ("audio", {"audioUrl": "https://m/a.mp3"}),
    ("video", {"videoUrl": "https://m/v.mp4", "additionalData": '{"k":1}'}),
    ("file", {"fileUrl": "https://m/f.pdf", "title": "Invoice"}),
    (
        "bloc",
        {"items": [{"type": "text", "payload": {"text": "a"}}, {"type": "markdown", "payload": {"markdown": "**b**"}}]},
    ),
    # Unknown keys (a channel's own, or of a newer SDK) are dropped, as the SDK's zod parsing drops them.
    ("image", {"type": "image", "imageUrl": "https://m/cat.png", "metadata": {"channel": "webchat"}}),
    ("bloc", {"type": "bloc", "items": [{"type": "text", "payload": {"text": "a", "x": 1}}], "extra": None}),
]


@pytest.mark.parametrize(("kind", "payload"), HITL_PAYLOADS)
async def test_channel_message_is_sent_and_acked(
    client: TestClient[web.Request, web.Application],
    desk: FakeDesk,
    fake_botpress: FakeBotpress,
    kind: str,
    payload: dict[str, Any],
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    end_user_id = next(iter(fake_botpress.users))
    payload = json.loads(json.dumps(payload).replace("END_USER", end_user_id))
    message_id = "msg_01JCHANNEL00000000000000000"
    assert await call(
        client, "message_created", bot_message(fake_botpress, conversation_id, session_id, message_id, kind, payload)
    ) == (200, {})
    (sent,) = desk.sent
    assert sent.external_session_id == session_id and sent.bp_message_id == message_id
    assert sent.message.message_type == kind
    assert re.fullmatch(r"m-\d+", fake_botpress.messages[message_id]["tags"]["id"])
    if kind == "text":
        assert sent.author_external_id == fake_botpress.users[end_user_id]["tags"]["id"]
    if kind == "video":
        assert sent.message.additional_data == '{"k":1}'


async def test_redelivered_message_is_not_posted_twice(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(
        fake_botpress, conversation_id, session_id, "msg_01JREDELIVER0000000000000000", "text", {"text": "once"}
    )
    await call(client, "message_created", body)
    await call(client, "message_created", body)  # redelivered before the runtime saw the ack
    acked = json.loads(body)
    acked["message"]["tags"] = {"id": "m-already"}
    await call(client, "message_created", json.dumps(acked))  # redelivered after the ack
    assert len(desk.sent) == 1


async def test_author_lookup_is_cached(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress, bp_api: Any
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    end_user_id = next(iter(fake_botpress.users))
    before = len(bp_api.calls)
    for n in range(3):
        payload = {"text": f"m{n}", "userId": end_user_id}
        await call(
            client,
            "message_created",
            bot_message(fake_botpress, conversation_id, session_id, f"msg_01JCACHE{n:020d}", "text", payload),
        )
    user_gets = [c for c in bp_api.calls[before:] if c.request.method == "GET" and "/users/" in c.request.url.path]
    assert len(user_gets) == 1 and len(desk.sent) == 3


@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (lambda b: b["conversation"].update(channel="other"), 400, "Channel other not found"),
        (lambda b: b.update(type="carousel"), 400, "Message of type carousel not found"),
        (lambda b: b["payload"].update(text=""), 400, "payload.text"),
        (lambda b: b["payload"].update(additionalData="x" * 501), 400, "payload.additionalData"),
        (lambda b: b["conversation"].update(tags={}), 400, "not linked"),
    ],
)
async def test_bad_channel_messages_are_rejected(
    client: TestClient[web.Request, web.Application], mutate: Any, status: int, fragment: str
) -> None:
    body = json.loads(bot_message(None, "conv_x" + "0" * 24, "t-1", "msg_x" + "0" * 24, "text", {"text": "hi"}))
    mutate(body)
    got_status, got = await call(client, "message_created", body)
    assert got_status == status and fragment in got["message"], got


def _webhook(*events: dict[str, Any], secret: str = FakeHarness.secret) -> str:
    return webhook_body(fake_webhook(secret, *events).model_dump())


async def test_agent_reply_becomes_a_botpress_message_once(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    reply = {
        "kind": "reply",
        "session": session_id,
        "text": "Hi, Bob here",
        "message": "c-77",
        "key": "inv-1",
        "agent": "a-9",
    }
    assert await call(client, "webhook_received", _webhook(reply)) == (200, {})
    assert await call(client, "webhook_received", _webhook(reply)) == (200, {})
    reply_again = {**reply, "key": "inv-2"}  # a second invocation of the same comment
    await call(client, "webhook_received", _webhook(reply_again))
    messages = [m for m in fake_botpress.messages_in(conversation_id)]
    assert [m["payload"] for m in messages] == [{"text": "Hi, Bob here"}]
    agent = fake_botpress.users[messages[0]["userId"]]
    assert agent["tags"]["id"] == "a-9" and agent["name"] == "Bob"


async def test_our_own_acked_message_never_comes_back(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    await call(
        client,
        "message_created",
        bot_message(
            fake_botpress, conversation_id, session_id, "msg_01JOWN000000000000000000000", "text", {"text": "mine"}
        ),
    )
    echoed = {
        "kind": "reply",
        "session": session_id,
        "text": "mine",
        "message": fake_botpress.messages["msg_01JOWN000000000000000000000"]["tags"]["id"],
    }
    await call(client, "webhook_received", _webhook(echoed))
    assert [m["id"] for m in fake_botpress.messages_in(conversation_id)] == ["msg_01JOWN000000000000000000000"]


async def test_assignment_and_close_emit_events_once(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    assign = {"kind": "assign", "session": session_id, "key": "as-1", "agent": "a-9", "agentName": "Bob"}
    close = {"kind": "close", "session": session_id, "key": "cl-1"}
    for body in (
        _webhook(assign),
        _webhook(assign),
        _webhook({**assign, "key": "as-2"}),
        _webhook(close),
        _webhook({**close, "key": "cl-2"}),
    ):
        assert (await call(client, "webhook_received", body))[0] == 200
    assert fake_botpress.event_types() == ["hitlAssigned", "hitlStopped"]
    assigned, stopped = fake_botpress.events
    agent_id = assigned["payload"]["userId"]
    assert assigned["payload"] == {"conversationId": conversation_id, "userId": agent_id}
    assert fake_botpress.users[agent_id]["tags"]["id"] == "a-9"
    assert stopped["payload"] == {"conversationId": conversation_id}


async def test_foreign_sessions_are_ignored_with_200(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    body = _webhook(
        {"kind": "reply", "session": "t-not-ours", "text": "x", "message": "c-1"},
        {"kind": "close", "session": "t-not-ours"},
    )
    assert await call(client, "webhook_received", body) == (200, {})
    assert fake_botpress.messages == {} and fake_botpress.events == []


async def test_bad_signature_is_a_401_and_creates_nothing(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    _, session_id = await start_session(client, fake_botpress)
    forged = _webhook({"kind": "close", "session": session_id}, secret="wrong-secret")
    status, body = await call(client, "webhook_received", forged)
    assert status == 401 and body["type"] == "Unauthorized"
    assert fake_botpress.events == []


async def test_unreadable_webhook_is_a_400(client: TestClient[web.Request, web.Application]) -> None:
    request = fake_webhook(FakeHarness.secret).model_copy(update={"body": "{}"})
    from tests.fakes import sign

    request = request.model_copy(update={"headers": {"x-fake-signature": sign(FakeHarness.secret, "{}")}})
    status, body = await call(client, "webhook_received", webhook_body(request.model_dump()))
    assert status == 400 and body["type"] == "InvalidPayload"


async def test_webhook_body_without_req_names_it(client: TestClient[web.Request, web.Application]) -> None:
    status, body = await call(client, "webhook_received", {"nope": 1})
    assert status == 400 and "body.req" in body["message"]


async def test_trace_context_reaches_every_botpress_call(
    client: TestClient[web.Request, web.Application], bp_api: Any
) -> None:
    from tests.factories import TRACEPARENT

    await action(client, "createUser", {"name": "Jane", "email": "jane@example.com"})
    botpress_calls = [c.request for c in bp_api.calls]
    assert botpress_calls
    assert all(request.headers.get("traceparent") == TRACEPARENT for request in botpress_calls)
    assert all(request.headers["x-integration-alias"] == "hitl-bridge" for request in botpress_calls)
