"""The contract checks catch what they claim to catch (and accept what the API accepts)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.contracts.botpress import (
    BP_TEST_API_URL,
    BotpressMockRouter,
    bp_conversation,
    bp_error,
    bp_event,
    bp_json,
    bp_message,
    bp_state,
    bp_user,
    fail_on_violations,
    validate_botpress_error_body,
    validate_botpress_request,
    validate_botpress_response,
)

HEADERS = {
    "authorization": "Bearer tok",
    "x-bot-id": "bot_1",
    "x-integration-id": "int_1",
    "x-integration-alias": "hitl-bridge",
}
CONV_ID = "conv_01JTESTCONV00000000000000000"
USER_ID = "user_01JTESTUSER00000000000000000"
GOOD_MESSAGE = {"conversationId": CONV_ID, "userId": USER_ID, "type": "text", "payload": {"text": "x"}, "tags": {}}


def request(
    method: str,
    path: str,
    body: Any = None,
    *,
    params: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    base: str = BP_TEST_API_URL,
) -> httpx.Request:
    return httpx.Request(
        method,
        base + path,
        params=tuple(params or ()),
        headers=HEADERS if headers is None else headers,
        json=body,
    )


def violation(req: httpx.Request) -> str:
    with pytest.raises(AssertionError) as caught:
        validate_botpress_request(req)
    return str(caught.value)


@pytest.mark.parametrize(
    "req",
    [
        request("POST", "/v1/chat/messages", GOOD_MESSAGE),
        request("GET", "/v1/chat/conversations", params=[("channel", "hitl"), ("tags.id", "123")]),
        request("GET", "/v1/chat/users", params=[("tags.id", "x" * 500), ("nextToken", "t")]),
        request("POST", "/v1/chat/states/integration/int_1/zendesk", {"payload": None}),
        request("PATCH", "/v1/chat/states/user/u/profile", {"payload": {"a": 1}}),
        request("PUT", "/v1/chat/users/u", {"name": None}),
    ],
    ids=["create-message", "list-conversations", "list-users", "set-state-null", "patch-state", "update-user-null"],
)
def test_valid_requests_pass(req: httpx.Request) -> None:
    validate_botpress_request(req)


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        (request("POST", "/v1/chat/messages", {**GOOD_MESSAGE, "tags": None}), "at tags: None is not of type 'object'"),
        (request("POST", "/v1/chat/messages", {k: v for k, v in GOOD_MESSAGE.items() if k != "tags"}), "'tags'"),
        (request("POST", "/v1/chat/messages", {**GOOD_MESSAGE, "extra": 1}), "'extra' was unexpected"),
        (request("POST", "/v1/chat/messages", {**GOOD_MESSAGE, "userId": "u"}), "at userId"),
        (request("GET", "/v1/chat/users", params=[("tags[id]", "1")]), "'tags[id]' is not declared"),
        (request("GET", "/v1/chat/users", params=[("tags", "1")]), "tags.<name>=<value>"),
        (request("GET", "/v1/chat/users", params=[("tags.", "1")]), "has no tag name"),
        (request("GET", "/v1/chat/users", params=[("tags.id", "x" * 501)]), "more than 500"),
        (request("GET", "/v1/chat/events", params=[("tags.id", "1")]), "does not filter by tags"),
        (request("GET", "/v1/chat/users", params=[("pageSize", "5")]), "'pageSize' is not declared"),
        (request("GET", "/v1/chat/users", params=[("sortField", "name")]), "sortField"),
        (request("GET", "/v1/chat/nowhere"), "PathNotFound"),
        (request("GET", "/v1/chat/states/robot/x/y"), "path parameter: type"),
        (request("POST", "/v1/chat/states/user/u/n", {"payload": {}, "expiry": 0}), "minimum"),
    ],
)
def test_violations_are_caught(req: httpx.Request, expected: str) -> None:
    assert expected in violation(req)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("authorization", "Bearer"),
        ("x-bot-id", "x-bot-id"),
        ("x-integration-id", "missing header x-integration-id"),
        ("x-integration-alias", "missing header x-integration-alias"),
    ],
)
def test_missing_headers_are_caught(drop: str, expected: str) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != drop}

    assert expected in violation(request("GET", f"/v1/chat/users/{USER_ID}", headers=headers))


def test_a_non_bearer_authorization_is_caught() -> None:
    assert "Bearer" in violation(request("GET", "/v1/chat/users", headers={**HEADERS, "authorization": "Bearer "}))


def test_a_body_on_get_is_caught() -> None:
    req = httpx.Request("GET", BP_TEST_API_URL + "/v1/chat/users", headers=HEADERS, json={"a": 1})

    assert "GET must not carry a body" in violation(req)


def test_a_body_without_json_content_type_is_caught() -> None:
    headers = {**HEADERS, "content-type": "text/plain"}
    req = httpx.Request("PUT", BP_TEST_API_URL + "/v1/chat/users/u", headers=headers, content=b'{"name":"x"}')

    assert "content-type application/json" in violation(req)


def test_a_content_type_without_body_is_caught() -> None:
    req = request("GET", "/v1/chat/users", headers={**HEADERS, "content-type": "application/json"})

    assert "content-type sent without a body" in violation(req)


def test_a_base_url_prefix_is_stripped_for_emulators() -> None:
    req = request("POST", "/sandbox/bp/v1/chat/messages", GOOD_MESSAGE, base="http://127.0.0.1:9000")

    validate_botpress_request(req, base_url="http://127.0.0.1:9000/sandbox/bp")
    with pytest.raises(AssertionError, match="not found"):
        validate_botpress_request(req)


def test_integration_headers_can_be_optional() -> None:
    headers = {"authorization": "Bearer t", "x-bot-id": "b"}

    validate_botpress_request(request("GET", "/v1/chat/users", headers=headers), require_integration_headers=False)


def test_error_body_checks() -> None:
    validate_botpress_error_body({"id": "e", "code": 404, "type": "ResourceNotFound", "message": "m", "metadata": {}})
    bad_bodies = [
        ({"id": "e", "code": 404, "type": "NotAType", "message": "m"}, "not in the error catalogue"),
        ({"id": "e", "code": 400, "type": "ResourceNotFound", "message": "m"}, "does not match"),
        ({"code": 404, "type": "ResourceNotFound", "message": "m"}, "'id' is a required property"),
        ({"type": "RateLimited", "description": "d", "status": 429}, "required property"),
        ({"id": "e", "code": 404, "type": "ResourceNotFound", "message": "m", "x": 1}, "unexpected"),
        ([], "not of type 'object'"),
    ]
    for body, expected in bad_bodies:
        with pytest.raises(AssertionError, match=expected):
            validate_botpress_error_body(body)
    with pytest.raises(AssertionError, match="differs from the HTTP status"):
        validate_botpress_error_body({"id": "e", "code": 404, "type": "ResourceNotFound", "message": "m"}, status=400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/users/get-or-create", {"user": bp_user(name="n", picture_url="p")}),
        ("/v1/chat/conversations/get-or-create", {"conversation": bp_conversation()}),
        ("/v1/chat/messages", {"message": bp_message()}),
        ("/v1/chat/events", {"event": bp_event(conversation_id=CONV_ID, user_id=USER_ID)}),
        ("/v1/chat/states/user/u/n/get-or-set", {"state": bp_state("user"), "meta": {"cached": False}}),
        ("/v1/chat/states/integration/i/n", {"state": bp_state()}),
    ],
)
def test_builders_make_valid_responses(path: str, body: dict[str, Any]) -> None:
    req = request("POST", path, {})

    validate_botpress_response(req, bp_json(body))


def test_responses_are_loose_about_new_fields_but_not_about_required_ones() -> None:
    req = request("POST", "/v1/chat/users/get-or-create", {"tags": {}})
    validate_botpress_response(req, bp_json({"user": {**bp_user(), "attributes": {}}, "meta": {"created": True}}))

    user = bp_user()
    del user["createdAt"]
    with pytest.raises(AssertionError, match="createdAt"):
        validate_botpress_response(req, bp_json({"user": user}))


def test_error_responses_must_be_catalogue_bodies() -> None:
    req = request("GET", "/v1/chat/users")
    validate_botpress_response(req, bp_error("InvalidQuery"))
    validate_botpress_response(req, httpx.Response(502, text="<html>gateway</html>"))
    validate_botpress_response(
        req, httpx.Response(429, json={"type": "RateLimited", "description": "d", "status": 429})
    )
    with pytest.raises(AssertionError, match="not JSON"):
        validate_botpress_response(req, httpx.Response(400, text="bad"))
    with pytest.raises(AssertionError, match="not a Botpress error body"):
        validate_botpress_response(req, httpx.Response(404, json={"error": "nope"}))


async def test_the_router_refuses_a_bad_request_when_it_is_sent() -> None:
    router = BotpressMockRouter(base_url=BP_TEST_API_URL, assert_all_mocked=True, assert_all_called=False)
    with router:
        router.post("/v1/chat/messages").mock(return_value=bp_json({"message": bp_message()}, 201))
        async with httpx.AsyncClient() as http:
            with pytest.raises(AssertionError, match="'tags' is a required property"):
                body = {k: v for k, v in GOOD_MESSAGE.items() if k != "tags"}
                await http.post(BP_TEST_API_URL + "/v1/chat/messages", json=body, headers=HEADERS)
            ok = await http.post(BP_TEST_API_URL + "/v1/chat/messages", json=GOOD_MESSAGE, headers=HEADERS)

    assert ok.status_code == 201
    assert len(router.violations) == 1


async def test_the_router_refuses_a_bad_mocked_response_unless_told() -> None:
    router = BotpressMockRouter(base_url=BP_TEST_API_URL, assert_all_mocked=True, assert_all_called=False)
    with router:
        router.get(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_json({"usr": {}}))
        async with httpx.AsyncClient() as http:
            with pytest.raises(AssertionError, match="user"):
                await http.get(f"{BP_TEST_API_URL}/v1/chat/users/{USER_ID}", headers=HEADERS)
            router.check_responses = False
            await http.get(f"{BP_TEST_API_URL}/v1/chat/users/{USER_ID}", headers=HEADERS)

    assert len(router.violations) == 1


async def test_the_router_leaves_other_hosts_to_other_routers() -> None:
    router = BotpressMockRouter(base_url=BP_TEST_API_URL, assert_all_mocked=False, assert_all_called=False)
    with router:
        router.get("https://acme.zendesk.com/api/v2/tickets/1.json").mock(return_value=httpx.Response(200, json={}))
        async with httpx.AsyncClient() as http:
            response = await http.get("https://acme.zendesk.com/api/v2/tickets/1.json")

    assert response.status_code == 200
    assert router.violations == []


def test_recorded_calls_are_checked_again_at_teardown() -> None:
    router = BotpressMockRouter(base_url=BP_TEST_API_URL, assert_all_mocked=True, assert_all_called=False)
    bad = request("GET", "/v1/chat/users", params=[("tags[id]", "1")])
    router.record(bad, response=httpx.Response(200, json={"users": [], "meta": {}}))

    violations = router.recheck_calls()

    assert len(violations) == 1
    with pytest.raises(pytest.fail.Exception, match="tags\\[id\\]"):
        fail_on_violations(violations)
    fail_on_violations([])


def test_the_fixture_body_is_well_formed_json() -> None:
    assert json.loads(request("POST", "/v1/chat/messages", GOOD_MESSAGE).content) == GOOD_MESSAGE
