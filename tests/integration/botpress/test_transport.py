"""Transport details: query encoding, headers (trace, token, content-type) and base URL handling."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from integration.botpress import BotpressClient
from integration.botpress._transport import build_headers, encode_query, path_of
from tests.contracts.botpress import BotpressMockRouter, bp_json, bp_page, bp_user

USER_ID = "user_01JTESTUSER00000000000000000"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"channel": "hitl", "tags": {"id": "123"}, "participantIds": ["u1", "u2"]},
            [("channel", "hitl"), ("tags.id", "123"), ("participantIds", "u1"), ("participantIds", "u2")],
        ),
        ({"a": None, "tags": {"x": None, "y": "1"}}, [("tags.y", "1")]),
        ({"flag": True, "n": 3}, [("flag", "true"), ("n", "3")]),
        ({"tags": {}}, []),
    ],
)
def test_encode_query_like_the_sdk(params: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert encode_query(params) == expected


def test_path_segments_are_encoded() -> None:
    assert path_of("states", "user", "a/b?c", "n m") == "/v1/chat/states/user/a%2Fb%3Fc/n%20m"


def test_only_w3c_trace_headers_are_forwarded() -> None:
    headers = build_headers(
        token=SecretStr("t"),
        bot_id="b",
        integration_id="i",
        integration_alias="a",
        trace_headers={"TraceParent": "00-abc-def-01", "tracestate": "k=v", "x-bp-secret": "nope", "Cookie": "c"},
    )

    assert headers == {
        "authorization": "Bearer t",
        "x-bot-id": "b",
        "x-integration-id": "i",
        "x-integration-alias": "a",
        "traceparent": "00-abc-def-01",
        "tracestate": "k=v",
    }


def test_no_token_no_authorization_header() -> None:
    headers = build_headers(token=None, bot_id="b", integration_id="i", integration_alias="a", trace_headers=None)

    assert "authorization" not in headers


async def test_trace_headers_reach_the_api(bp_api: BotpressMockRouter) -> None:
    route = bp_api.get(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_json({"user": bp_user(USER_ID)}))
    async with httpx.AsyncClient() as http:
        client = BotpressClient(
            http,
            base_url="https://api.botpress.cloud/",
            token=SecretStr("tok_123456"),
            bot_id="bot_1",
            integration_id="int_1",
            integration_alias="alias",
            trace_headers={
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tracestate": "a=1",
            },
        )
        await client.get_user(USER_ID)

    request = route.calls.last.request
    assert request.url.path == f"/v1/chat/users/{USER_ID}"  # no double slash from the trailing "/"
    assert request.headers["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert request.headers["tracestate"] == "a=1"
    assert request.headers["authorization"] == "Bearer tok_123456"


async def test_base_url_with_a_path_prefix_is_kept() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return bp_page("users", [])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = BotpressClient(
            http, base_url="http://127.0.0.1:8000/sandbox/bp", token=None, bot_id="b", integration_id="i",
            integration_alias="a",
        )  # fmt: skip
        await client.list_users(tags={"id": "1"})

    assert str(seen[0].url) == "http://127.0.0.1:8000/sandbox/bp/v1/chat/users?tags.id=1"
    assert "authorization" not in seen[0].headers


async def test_the_body_is_compact_json(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/users").mock(return_value=bp_json({"user": bp_user()}, 201))

    await bp_client.create_user(tags={"id": "é"})

    assert route.calls.last.request.content == b'{"tags":{"id":"\\u00e9"}}'
    assert route.calls.last.request.headers["content-type"] == "application/json"
