"""The emulated Runtime API answers as the OpenAPI 1.70.2 says, over real HTTP, with Botpress's error bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from integration.sandbox.ids import now_millis
from integration.sandbox.runtime_api import states as states_module
from tests.sandbox.conftest import IDENTITY, INTEGRATION_HEADERS, contract_client, created, error, ok

pytestmark = pytest.mark.e2e


async def _conversation(api: httpx.AsyncClient, ticket: str, channel: str = "hitl") -> dict[str, Any]:
    return created(
        await api.post("/v1/chat/conversations", json={"channel": channel, "tags": {"id": ticket}}), "conversation"
    )


async def _user(api: httpx.AsyncClient, **tags: str) -> dict[str, object]:
    return created(await api.post("/v1/chat/users", json={"tags": tags, "name": "Ann"}), "user")


# Users


async def test_users_create_get_update_with_tag_semantics(api: httpx.AsyncClient) -> None:
    user = await _user(api, id="Z-1", email="ann@example.com")
    assert 28 <= len(str(user["id"])) <= 36
    assert ok(await api.get(f"/v1/chat/users/{user['id']}"), "user") == user
    body = {"tags": {"email": "", "role": "end-user"}, "name": None}
    updated = ok(await api.put(f"/v1/chat/users/{user['id']}", json=body), "user")
    assert updated["tags"] == {"id": "Z-1", "role": "end-user"}
    assert "name" not in updated


async def test_get_or_create_user_discriminates_by_the_named_tags(api: httpx.AsyncClient) -> None:
    first = ok(
        await api.post(
            "/v1/chat/users/get-or-create", json={"tags": {"id": "A9", "email": "a@x.io"}, "discriminateByTags": ["id"]}
        ),
        "user",
    )
    again = ok(
        await api.post(
            "/v1/chat/users/get-or-create",
            json={"tags": {"id": "A9", "email": "other@x.io"}, "discriminateByTags": ["id"]},
        ),
        "user",
    )
    other = ok(
        await api.post("/v1/chat/users/get-or-create", json={"tags": {"id": "B7"}, "discriminateByTags": ["id"]}),
        "user",
    )
    assert again["id"] == first["id"]
    assert again["tags"]["email"] == "a@x.io"  # found, not updated
    assert other["id"] != first["id"]


async def test_discriminating_on_a_tag_without_value_is_refused(raw_api: httpx.AsyncClient) -> None:
    body = {"tags": {"email": "a@x.io"}, "discriminateByTags": ["id"]}
    message = error(await raw_api.post("/v1/chat/users/get-or-create", json=body), 400, "InvalidPayload")
    assert "discriminateByTags" in message


async def test_list_users_by_tag_and_by_conversation(api: httpx.AsyncClient) -> None:
    ann, _bob = await _user(api, role="agent"), await _user(api, role="end-user")
    conversation = await _conversation(api, "T-1")
    message = {
        "conversationId": conversation["id"],
        "userId": ann["id"],
        "type": "text",
        "payload": {"text": "hi"},
        "tags": {},
    }
    created(await api.post("/v1/chat/messages", json=message), "message")
    by_tag = ok(await api.get("/v1/chat/users", params={"tags.role": "agent"}), "users")
    in_conversation = ok(await api.get("/v1/chat/users", params={"conversationId": conversation["id"]}), "users")
    assert [user["id"] for user in by_tag] == [ann["id"]]
    assert [user["id"] for user in in_conversation] == [ann["id"]]


# Conversations


async def test_conversation_belongs_to_the_calling_integration(api: httpx.AsyncClient) -> None:
    conversation = await _conversation(api, "T-1")
    assert conversation["integration"] == IDENTITY.integration_alias
    assert conversation["channel"] == "hitl"
    fetched = ok(await api.get(f"/v1/chat/conversations/{conversation['id']}"), "conversation")
    assert fetched == conversation


async def test_get_or_create_conversation_and_update_tags(api: httpx.AsyncClient) -> None:
    body = {"channel": "hitl", "tags": {"id": "T-7"}, "discriminateByTags": ["id"]}
    first = ok(await api.post("/v1/chat/conversations/get-or-create", json=body), "conversation")
    second = ok(await api.post("/v1/chat/conversations/get-or-create", json=body), "conversation")
    assert second["id"] == first["id"]
    updated = ok(
        await api.put(f"/v1/chat/conversations/{first['id']}", json={"tags": {"id": "", "x": "1"}}), "conversation"
    )
    assert updated["tags"] == {"x": "1"}


async def test_list_conversations_paginates_by_twenty_with_next_token(api: httpx.AsyncClient) -> None:
    made = {str((await _conversation(api, f"T-{n}"))["id"]) for n in range(45)}
    seen: list[str] = []
    params: dict[str, str] = {"channel": "hitl"}
    sizes = []
    while True:
        response = await api.get("/v1/chat/conversations", params=params)
        page = ok(response, "conversations")
        sizes.append(len(page))
        seen += [conversation["id"] for conversation in page]
        token = response.json()["meta"].get("nextToken")
        if token is None:
            break
        params = {"channel": "hitl", "nextToken": token}
    assert sizes == [20, 20, 5]
    assert len(seen) == 45 and set(seen) == made


async def test_list_conversations_filters_by_tags_and_channel(api: httpx.AsyncClient) -> None:
    wanted = await _conversation(api, "T-1")
    await _conversation(api, "T-2")
    await _conversation(api, "T-1", channel="other")
    found = ok(await api.get("/v1/chat/conversations", params={"channel": "hitl", "tags.id": "T-1"}), "conversations")
    assert [conversation["id"] for conversation in found] == [wanted["id"]]


async def test_a_bad_next_token_is_an_invalid_query(raw_api: httpx.AsyncClient) -> None:
    response = await raw_api.get("/v1/chat/conversations", params={"nextToken": "garbage!"})
    assert "nextToken" in error(response, 400, "InvalidQuery")


# Messages


async def test_messages_created_by_the_integration_are_incoming_and_ack_sets_tags(api: httpx.AsyncClient) -> None:
    conversation, user = await _conversation(api, "T-1"), await _user(api)
    body = {
        "conversationId": conversation["id"],
        "userId": user["id"],
        "type": "text",
        "payload": {"text": "hello"},
        "tags": {"id": "C-1"},
    }
    message = created(await api.post("/v1/chat/messages", json=body), "message")
    assert message["direction"] == "incoming"
    acked = ok(await api.put(f"/v1/chat/messages/{message['id']}", json={"tags": {"id": "C-2"}}), "message")
    assert acked["tags"] == {"id": "C-2"}
    assert ok(await api.get(f"/v1/chat/messages/{message['id']}"), "message") == acked


async def test_messages_written_with_bot_identity_are_outgoing(api_base_url: str, api: httpx.AsyncClient) -> None:
    conversation = await _conversation(api, "T-1")
    headers = {"authorization": "Bearer sandbox", "x-bot-id": IDENTITY.bot_id}
    async with contract_client(api_base_url, check_requests=True, **headers) as bot:
        body = {
            "conversationId": conversation["id"],
            "userId": IDENTITY.bot_user_id,
            "type": "text",
            "payload": {"text": "hi"},
            "tags": {},
        }
        message = created(await bot.post("/v1/chat/messages", json=body), "message")
    assert message["direction"] == "outgoing"


async def test_list_messages_newest_first_and_by_tag(api: httpx.AsyncClient) -> None:
    conversation, user = await _conversation(api, "T-1"), await _user(api)
    for n in range(3):
        body = {
            "conversationId": conversation["id"],
            "userId": user["id"],
            "type": "text",
            "payload": {"text": f"m{n}"},
            "tags": {"id": f"C-{n}"},
        }
        created(await api.post("/v1/chat/messages", json=body), "message")
    listed = ok(await api.get("/v1/chat/messages", params={"conversationId": conversation["id"]}), "messages")
    tagged = ok(await api.get("/v1/chat/messages", params={"tags.id": "C-1"}), "messages")
    assert [message["payload"]["text"] for message in listed] == ["m2", "m1", "m0"]
    assert [message["payload"]["text"] for message in tagged] == ["m1"]


async def test_get_or_create_message_dedupes_by_tag(api: httpx.AsyncClient) -> None:
    conversation, user = await _conversation(api, "T-1"), await _user(api)
    body = {
        "conversationId": conversation["id"],
        "userId": user["id"],
        "type": "text",
        "payload": {"text": "once"},
        "tags": {"id": "C-9"},
        "discriminateByTags": ["id"],
    }
    first = ok(await api.post("/v1/chat/messages/get-or-create", json=body), "message")
    second = ok(await api.post("/v1/chat/messages/get-or-create", json=body), "message")
    assert first["id"] == second["id"]


async def test_a_hitl_message_with_a_bad_payload_is_refused_naming_the_field(raw_api: httpx.AsyncClient) -> None:
    conversation, user = await _conversation(raw_api, "T-1"), await _user(raw_api)
    body = {
        "conversationId": conversation["id"],
        "userId": user["id"],
        "type": "text",
        "payload": {"text": ""},
        "tags": {},
    }
    assert "payload.text" in error(await raw_api.post("/v1/chat/messages", json=body), 400, "InvalidPayload")


async def test_a_message_in_a_missing_conversation_is_not_found(raw_api: httpx.AsyncClient) -> None:
    body = {
        "conversationId": "conv_01JNOPE000000000000000000000",
        "userId": IDENTITY.bot_user_id,
        "type": "text",
        "payload": {"text": "x"},
        "tags": {},
    }
    assert "Conversation" in error(await raw_api.post("/v1/chat/messages", json=body), 404, "ResourceNotFound")


# Events


async def test_hitl_events_are_stored_checked_and_listed(api: httpx.AsyncClient, raw_api: httpx.AsyncClient) -> None:
    conversation, agent = await _conversation(api, "T-1"), await _user(api)
    payload = {"conversationId": conversation["id"], "userId": agent["id"]}
    event = created(await api.post("/v1/chat/events", json={"type": "hitlAssigned", "payload": payload}), "event")
    assert event["status"] == "pending" and event["failureReason"] is None
    assert ok(await api.get(f"/v1/chat/events/{event['id']}"), "event")["type"] == "hitlAssigned"
    assert [e["id"] for e in ok(await api.get("/v1/chat/events", params={"type": "hitlAssigned"}), "events")] == [
        event["id"]
    ]
    missing_user = {"type": "hitlAssigned", "payload": {"conversationId": conversation["id"]}}
    assert "payload.userId" in error(await raw_api.post("/v1/chat/events", json=missing_user), 400, "InvalidPayload")
    unknown = {"type": "ticketExploded", "payload": {}}
    assert "ticketExploded" in error(await raw_api.post("/v1/chat/events", json=unknown), 400, "InvalidPayload")


# States


async def test_a_missing_state_is_resource_not_found(raw_api: httpx.AsyncClient) -> None:
    path = f"/v1/chat/states/integration/{IDENTITY.integration_id}/credentials"
    error(await raw_api.get(path), 404, "ResourceNotFound")


async def test_state_set_get_patch_get_or_set_and_clear(api: httpx.AsyncClient, raw_api: httpx.AsyncClient) -> None:
    path = f"/v1/chat/states/integration/{IDENTITY.integration_id}/credentials"
    kept = ok(await api.post(f"{path}/get-or-set", json={"payload": {"a": 1}}), "state")
    assert kept["payload"] == {"a": 1}
    assert ok(await api.post(f"{path}/get-or-set", json={"payload": {"a": 2}}), "state")["payload"] == {"a": 1}
    ok(await api.post(path, json={"payload": {"a": 3, "b": 1}}), "state")
    patched = ok(await api.patch(path, json={"payload": {"b": 2}}), "state")
    assert patched["payload"] == {"a": 3, "b": 2}
    assert ok(await api.get(path), "state")["payload"] == {"a": 3, "b": 2}
    ok(await api.post(path, json={"payload": None}), "state")
    error(await raw_api.get(path), 404, "ResourceNotFound")
    error(await raw_api.patch(path, json={"payload": {"b": 3}}), 404, "ResourceNotFound")


async def test_state_expiry_is_honoured(
    api: httpx.AsyncClient, raw_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = await _conversation(api, "T-1")
    path = f"/v1/chat/states/conversation/{conversation['id']}/hitl"
    state = ok(await api.post(path, json={"payload": {"hitlActive": True}, "expiry": 60_000}), "state")
    assert state["conversationId"] == conversation["id"]
    assert ok(await api.get(path), "state")["payload"] == {"hitlActive": True}
    later = now_millis() + 60_001
    monkeypatch.setattr(states_module, "now_millis", lambda: later)
    error(await raw_api.get(path), 404, "ResourceNotFound")


async def test_an_unknown_state_type_is_refused(raw_api: httpx.AsyncClient) -> None:
    assert "type" in error(await raw_api.get("/v1/chat/states/galaxy/x/y"), 400, "InvalidPayload")


# Errors


async def test_without_a_bearer_token_the_api_answers_unauthorized(api_base_url: str) -> None:
    headers = {"x-bot-id": IDENTITY.bot_id}
    async with contract_client(api_base_url, check_requests=False, **headers) as client:
        error(await client.get(f"/v1/chat/users/{IDENTITY.bot_user_id}"), 401, "Unauthorized")


async def test_another_bot_or_integration_is_forbidden(api_base_url: str) -> None:
    for name, value in (("x-bot-id", "someone-else"), ("x-integration-id", "intver_01JOTHER0000000000000000000")):
        headers = {**INTEGRATION_HEADERS, name: value}
        async with contract_client(api_base_url, check_requests=False, **headers) as client:
            assert name in error(await client.get(f"/v1/chat/users/{IDENTITY.bot_user_id}"), 403, "Forbidden")


async def test_missing_bot_id_is_invalid(api_base_url: str) -> None:
    async with contract_client(api_base_url, check_requests=False, authorization="Bearer sandbox") as client:
        assert "x-bot-id" in error(await client.get("/v1/chat/users"), 400, "InvalidPayload")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat/messages", {"payload": {}, "userId": "u" * 28, "conversationId": "c" * 28, "type": "text"}, "tags"),
        ("/v1/chat/users", {"tags": {}, "nickname": "x"}, "nickname"),
        ("/v1/chat/users", {"tags": {"id": "x" * 501}}, "tags.id"),
        ("/v1/chat/conversations", {"channel": 42, "tags": {}}, "channel"),
        (
            "/v1/chat/messages",
            {"payload": {}, "userId": "short", "conversationId": "c" * 28, "type": "text", "tags": {}},
            "userId",
        ),
    ],
)
async def test_bad_bodies_are_invalid_payload_naming_the_field(
    raw_api: httpx.AsyncClient, path: str, body: dict[str, object], field: str
) -> None:
    assert field in error(await raw_api.post(path, json=body), 400, "InvalidPayload")


async def test_non_json_bodies_and_unknown_routes_get_error_bodies(raw_api: httpx.AsyncClient) -> None:
    bad_json = await raw_api.post("/v1/chat/users", content=b"{nope", headers={"content-type": "application/json"})
    assert "JSON" in error(bad_json, 400, "InvalidPayload")
    error(await raw_api.get("/v1/chat/nothing-here"), 404, "ResourceNotFound")
    error(await raw_api.get("/v1/chat/users/user_01JMISSING00000000000000000"), 404, "ResourceNotFound")
