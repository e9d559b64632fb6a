"""Errors: both body shapes, typed subclasses, unknown bodies, one-line messages without the token."""

from __future__ import annotations

import httpx
import pytest

from integration.botpress import (
    AlreadyExistsError,
    BotpressApiError,
    BotpressClient,
    ForbiddenError,
    InternalError,
    InvalidPayloadError,
    RateLimitedError,
    ResourceNotFoundError,
    UnauthorizedError,
)
from integration.botpress.errors import MAX_MESSAGE_CHARS, error_from_body
from tests.contracts.botpress import TEST_TOKEN, BotpressMockRouter, bp_error, bp_json, bp_user

USER_ID = "user_01JTESTUSER00000000000000000"
CATALOGUE_BODY = b'{"id":"err_123","code":400,"type":"InvalidPayload","message":"tags is required","metadata":{"a":1}}'
DOC_BODY = b'{"type":"RateLimited","description":"The request has been rate-limited.","status":429}'


def test_catalogue_body_gives_the_typed_error_with_every_field() -> None:
    error = error_from_body(400, CATALOGUE_BODY, operation="POST /v1/chat/messages")

    assert type(error) is InvalidPayloadError
    assert (error.type, error.code, error.status, error.error_id) == ("InvalidPayload", 400, 400, "err_123")
    assert error.message == "tags is required"
    assert error.metadata == {"a": 1}
    assert str(error) == "Botpress POST /v1/chat/messages -> 400 InvalidPayload: tags is required"


def test_documented_alternative_body_shape_is_parsed() -> None:
    error = error_from_body(429, DOC_BODY)

    assert type(error) is RateLimitedError
    assert (error.type, error.code, error.message, error.error_id) == (
        "RateLimited",
        429,
        "The request has been rate-limited.",
        None,
    )


@pytest.mark.parametrize(
    ("error_type", "status", "expected"),
    [
        ("InvalidPayload", 400, InvalidPayloadError),
        ("Unauthorized", 401, UnauthorizedError),
        ("Forbidden", 403, ForbiddenError),
        ("ResourceNotFound", 404, ResourceNotFoundError),
        ("AlreadyExists", 409, AlreadyExistsError),
        ("RateLimited", 429, RateLimitedError),
        ("Internal", 500, InternalError),
    ],
)
def test_the_class_follows_the_body_type(error_type: str, status: int, expected: type[BotpressApiError]) -> None:
    body = f'{{"id":"e","code":{status},"type":"{error_type}","message":"m"}}'.encode()

    assert type(error_from_body(status, body)) is expected


def test_the_type_decides_not_the_status() -> None:
    error = error_from_body(400, b'{"id":"e","code":404,"type":"ResourceNotFound","message":"m"}')

    assert isinstance(error, ResourceNotFoundError)
    assert (error.status, error.code) == (400, 404)


def test_a_catalogue_type_without_subclass_keeps_its_type() -> None:
    error = error_from_body(409, b'{"id":"e","code":409,"type":"RelationConflict","message":"m"}')

    assert type(error) is BotpressApiError
    assert error.type == "RelationConflict"


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b"", b"[1,2]", b'{"error":"x"}', b'{"type":7}'])
def test_unparseable_bodies_are_unknown(body: bytes) -> None:
    error = error_from_body(502, body)

    assert type(error) is BotpressApiError
    assert (error.type, error.code, error.status) == ("Unknown", 502, 502)


def test_messages_are_one_line_bounded_and_redacted() -> None:
    body = b'{"id":"e","code":401,"type":"Unauthorized","message":"bad token\\nsecret-tok\\n' + b"x" * 1000 + b'"}'

    error = error_from_body(401, body, secrets=["secret-tok"])

    assert "\n" not in str(error)
    assert "secret-tok" not in str(error)
    assert "***" in error.message
    assert len(error.message) <= MAX_MESSAGE_CHARS


def test_transient_errors() -> None:
    assert error_from_body(429, DOC_BODY).is_transient
    assert error_from_body(503, b"").is_transient
    assert not error_from_body(400, CATALOGUE_BODY).is_transient


async def test_client_raises_the_typed_error(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.post("/v1/chat/users").mock(return_value=bp_error("AlreadyExists", "user exists"))

    with pytest.raises(AlreadyExistsError) as caught:
        await bp_client.create_user(tags={"id": "1"})

    assert (caught.value.status, caught.value.code, caught.value.message) == (409, 409, "user exists")
    assert caught.value.error_id is not None
    assert "POST /v1/chat/users" in str(caught.value)


async def test_client_parses_the_doc_shape_too(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.check_responses = False  # the documented alternative shape is not the catalogue shape
    bp_api.put(f"/v1/chat/users/{USER_ID}").mock(
        return_value=httpx.Response(403, json={"type": "Forbidden", "description": "no", "status": 403})
    )

    with pytest.raises(ForbiddenError, match="Forbidden: no"):
        await bp_client.update_user(USER_ID, name="x")


async def test_a_token_echoed_by_the_api_is_redacted(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(f"/v1/chat/users/{USER_ID}").mock(
        return_value=bp_error("Unauthorized", f"token Bearer {TEST_TOKEN} is not valid")
    )

    with pytest.raises(UnauthorizedError) as caught:
        await bp_client.get_user(USER_ID)

    assert TEST_TOKEN not in str(caught.value)
    assert TEST_TOKEN not in repr(caught.value.args)


async def test_a_success_without_the_object_is_an_error(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.check_responses = False
    bp_api.post("/v1/chat/users/get-or-create").mock(return_value=bp_json({"usr": bp_user()}))

    with pytest.raises(BotpressApiError, match="unexpected response") as caught:
        await bp_client.get_or_create_user(tags={"id": "1"})

    assert caught.value.type == "Unknown"


async def test_a_success_that_is_not_json_is_an_error(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.check_responses = False
    bp_api.get("/v1/chat/users").mock(return_value=httpx.Response(200, text="ok"))

    with pytest.raises(BotpressApiError, match="not a JSON object"):
        await bp_client.list_users()


async def test_a_list_that_is_not_a_list_is_an_error(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.check_responses = False
    bp_api.get("/v1/chat/users").mock(return_value=bp_json({"users": {}, "meta": {}}))

    with pytest.raises(BotpressApiError, match="'users' is not a list"):
        await bp_client.list_users()
