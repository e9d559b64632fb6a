"""Users: URLs, headers, bodies, queries and pagination of the user endpoints."""

from __future__ import annotations

import json

import httpx

from integration.botpress import BotpressClient, User
from tests.contracts.botpress import (
    TEST_BOT_ID,
    TEST_INTEGRATION_ALIAS,
    TEST_INTEGRATION_ID,
    TEST_TOKEN,
    BotpressMockRouter,
    bp_error,
    bp_json,
    bp_page,
    bp_user,
)

USER_ID = "user_01JTESTUSER00000000000000000"


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content)


async def test_get_user_sends_the_sdk_headers_and_parses_the_user(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    route = bp_api.get(f"/v1/chat/users/{USER_ID}").mock(
        return_value=bp_json({"user": bp_user(USER_ID, tags={"id": "z-42"}, name="Ada", picture_url="https://x/a.png")})
    )

    user = await bp_client.get_user(USER_ID)

    assert user is not None
    assert (user.id, user.tags, user.name, user.picture_url) == (USER_ID, {"id": "z-42"}, "Ada", "https://x/a.png")
    headers = route.calls.last.request.headers
    assert headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert headers["x-bot-id"] == TEST_BOT_ID
    assert headers["x-integration-id"] == TEST_INTEGRATION_ID
    assert headers["x-integration-alias"] == TEST_INTEGRATION_ALIAS
    assert "content-type" not in headers
    assert route.calls.last.request.content == b""


async def test_get_user_returns_none_when_missing(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_error("ResourceNotFound"))

    assert await bp_client.get_user(USER_ID) is None


async def test_create_user_sends_only_the_given_fields(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/users").mock(return_value=bp_json({"user": bp_user(tags={"id": "1"})}, 201))

    user = await bp_client.create_user(tags={"id": "1"}, picture_url="https://x/p.png")

    assert isinstance(user, User)
    assert body_of(route.calls.last.request) == {"tags": {"id": "1"}, "pictureUrl": "https://x/p.png"}
    assert route.calls.last.request.headers["content-type"] == "application/json"


async def test_get_or_create_user_sends_discriminating_tags(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    route = bp_api.post("/v1/chat/users/get-or-create").mock(return_value=bp_json({"user": bp_user(name="Bob")}))

    user = await bp_client.get_or_create_user(
        tags={"id": "agent-7", "email": "bob@example.com"}, name="Bob", discriminate_by_tags=["id"]
    )

    assert user.name == "Bob"
    assert body_of(route.calls.last.request) == {
        "tags": {"id": "agent-7", "email": "bob@example.com"},
        "name": "Bob",
        "discriminateByTags": ["id"],
    }


async def test_get_or_create_user_without_discriminator_omits_it(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    route = bp_api.post("/v1/chat/users/get-or-create").mock(return_value=bp_json({"user": bp_user()}))

    await bp_client.get_or_create_user(tags={"id": "a"})

    assert body_of(route.calls.last.request) == {"tags": {"id": "a"}}


async def test_update_user_sends_only_the_given_fields(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_json({"user": bp_user(USER_ID, name="N")}))

    user = await bp_client.update_user(USER_ID, name="N")

    assert user.name == "N"
    assert body_of(route.calls.last.request) == {"name": "N"}


async def test_update_user_tags(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_json({"user": bp_user(USER_ID)}))

    await bp_client.update_user(USER_ID, tags={"id": ""})

    assert body_of(route.calls.last.request) == {"tags": {"id": ""}}


async def test_list_users_follows_next_token_and_encodes_filters(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    first, second, third = bp_user(), bp_user(), bp_user()
    route = bp_api.get("/v1/chat/users").mock(
        side_effect=[bp_page("users", [first, second], next_token="page-2"), bp_page("users", [third])]
    )

    users = await bp_client.list_users(tags={"id": "z 1"}, conversation_id="conv_01JTESTCONV00000000000000000")

    assert [u.id for u in users] == [first["id"], second["id"], third["id"]]
    queries = [dict(call.request.url.params) for call in route.calls]
    assert queries[0] == {"tags.id": "z 1", "conversationId": "conv_01JTESTCONV00000000000000000"}
    assert queries[1] == {**queries[0], "nextToken": "page-2"}


async def test_list_users_without_filters_sends_no_query(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get("/v1/chat/users").mock(return_value=bp_page("users", []))

    assert await bp_client.list_users() == []
    assert route.calls.last.request.url.query == b""


async def test_list_users_stops_after_max_pages(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get("/v1/chat/users").mock(
        side_effect=lambda request: bp_page("users", [bp_user()], next_token="again")
    )

    users = await bp_client.list_users(max_pages=3)

    assert route.call_count == 3
    assert len(users) == 3
