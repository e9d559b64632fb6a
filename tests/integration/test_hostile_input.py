"""Hostile input to the operations: a 4xx naming what is wrong (or the text cleaned), never a 500 or a traceback."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from integration.app import create_app
from integration.botpress import errors as bp_errors
from integration.errors import error_response
from tests import conftest
from tests.conftest import FAKE_CONFIG
from tests.contracts.botpress import BotpressMockRouter, bp_error, validate_botpress_error_body
from tests.factories import action_body, runtime_headers
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeDesk

DEEP = "[" * 100_000 + "]" * 100_000


async def post(
    client: TestClient[web.Request, web.Application], body: str | bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    response = await client.post("/", data=body, headers=headers)
    text = await response.text()
    assert "Traceback" not in text
    return response.status, json.loads(text)


def assert_error(status: int, body: Any, expected_status: int, error_type: str, fragment: str) -> None:
    assert status == expected_status, body
    validate_botpress_error_body(body, status=status)
    assert body["type"] == error_type and fragment in body["message"], body


@pytest.mark.parametrize("operation", ["action_triggered", "message_created", "webhook_received", "register"])
async def test_deeply_nested_body_is_invalid_payload(
    client: TestClient[web.Request, web.Application], operation: str
) -> None:
    status, body = await post(client, DEEP, runtime_headers(operation, FAKE_CONFIG))
    assert_error(status, body, 400, "InvalidPayload", "Invalid JSON body: JSON nested too deeply")


async def test_deeply_nested_configuration_is_invalid_payload(client: TestClient[web.Request, web.Application]) -> None:
    # Headers are capped at 8 KiB: deep enough for RecursionError, short enough to be read.
    deep_config = base64.b64encode(('{"a":' + "[" * 2_500 + "]" * 2_500 + "}").encode()).decode()
    headers = runtime_headers("action_triggered", FAKE_CONFIG) | {"x-bp-configuration": deep_config}
    status, body = await post(client, action_body("createUser", {"name": "Jane"}), headers)
    assert_error(status, body, 400, "InvalidPayload", "configuration: JSON nested too deeply")


@pytest.mark.parametrize("header", ["x-bot-id", "x-integration-id", "x-bot-user-id"])
async def test_a_non_ascii_id_header_keeps_the_sdk_header_error(
    client: TestClient[web.Request, web.Application], header: str
) -> None:
    headers = runtime_headers("action_triggered", FAKE_CONFIG) | {header: "bot_caf\u00e9"}
    status, body = await post(client, action_body("createUser", {"name": "Jane", "email": "j@x.test"}), headers)
    assert status == 500 and set(body) == {"error"} and body["error"].startswith("Invalid "), body


async def test_a_non_ascii_traceparent_is_dropped_not_sent_on(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    headers = runtime_headers("action_triggered", FAKE_CONFIG) | {"traceparent": "00-\u00e9\u00e9-01"}
    status, body = await post(client, action_body("createUser", {"name": "Jane", "email": "j@x.test"}), headers)
    assert status == 200, body


async def test_lone_surrogates_in_names_and_emails_are_replaced(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, desk: FakeDesk
) -> None:
    raw = '{"type": "createUser", "input": {"name": "J\\ud800ne", "email": "j\\udfff@x.test"}}'
    status, body = await post(client, raw, runtime_headers("action_triggered", FAKE_CONFIG))
    assert status == 200, body
    user = fake_botpress.users[body["output"]["userId"]]
    assert user["name"] == "J\ufffdne" and user["tags"]["email"] == "j\ufffd@x.test"


@pytest.fixture
async def bare_client(
    aiohttp_client: AiohttpClient, tmp_path: Path, settings: Any, bp_api: BotpressMockRouter
) -> TestClient[web.Request, web.Application]:
    """The app with no fake Botpress behind the router: each test mocks the answers it needs."""
    return await aiohttp_client(create_app(conftest.test_settings(tmp_path)))


async def test_a_botpress_refusal_is_a_400_with_its_message(
    bare_client: TestClient[web.Request, web.Application], bp_api: BotpressMockRouter
) -> None:
    bp_api.post("/v1/chat/users/get-or-create").mock(return_value=bp_error("InvalidPayload", "tags.email is too long"))
    headers = runtime_headers("action_triggered", FAKE_CONFIG)
    status, body = await post(bare_client, action_body("createUser", {"name": "Jane", "email": "j@x.test"}), headers)
    assert_error(status, body, 400, "Runtime", "400 InvalidPayload: tags.email is too long")


@pytest.mark.parametrize(
    "error_class",
    [
        bp_errors.InvalidPayloadError,
        bp_errors.UnauthorizedError,
        bp_errors.ForbiddenError,
        bp_errors.ResourceNotFoundError,
        bp_errors.AlreadyExistsError,
    ],
)
def test_every_botpress_4xx_but_429_maps_to_a_400(error_class: type[bp_errors.BotpressApiError]) -> None:
    status = {"InvalidPayload": 400, "Unauthorized": 401, "Forbidden": 403, "ResourceNotFound": 404}
    code = status.get(error_class.error_type, 409)
    exc = error_class(type=error_class.error_type, code=code, status=code, message="nope", operation="getUser")
    response = error_response(exc)
    assert response.status == 400 and response.body["code"] == 400 and response.body["type"] == "Runtime"
    assert "nope" in response.body["message"]


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (bp_errors.RateLimitedError(type="RateLimited", code=429, status=429, message="slow down"), 500),
        (bp_errors.InternalError(type="Internal", code=500, status=500, message="down"), 500),
        (bp_errors.BotpressUnavailableError("getUser", "connect failed"), 500),
        (ZeroDivisionError("boom"), 500),
        (RecursionError("deep"), 400),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), 400),
    ],
)
def test_every_error_body_carries_its_status_as_code(exc: Exception, status: int) -> None:
    response = error_response(exc)
    assert response.status == status
    validate_botpress_error_body(response.body, status=status)


async def test_an_exception_from_the_desk_on_deep_input_is_a_400(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    from tests.integration.hitl.test_flow import bot_message, start_session

    conversation_id, session_id = await start_session(client, fake_botpress)
    desk.fail_next_send = RecursionError("maximum recursion depth exceeded")
    body = bot_message(
        fake_botpress, conversation_id, session_id, "msg_01JAAAAAAAAAAAAAAAAAAAAAAAAA", "text", {"text": "x"}
    )
    status, payload = await post(client, body, runtime_headers("message_created", FAKE_CONFIG))
    assert_error(status, payload, 400, "InvalidPayload", "nested too deeply")


@pytest.mark.parametrize(("exc", "status"), [(ZeroDivisionError("boom"), 500), (RecursionError("deep"), 400)])
async def test_what_escapes_any_route_is_a_json_error_without_traceback(
    aiohttp_client: Any, tmp_path: Path, settings: Any, exc: Exception, status: int
) -> None:
    app = create_app(conftest.test_settings(tmp_path))

    async def broken(request: Any) -> Any:
        raise exc

    app.router.add_get("/broken", broken)
    response = await (await aiohttp_client(app)).get("/broken")
    body = await response.json()
    assert response.status == status and "Traceback" not in json.dumps(body) and "boom" not in body["message"]
    validate_botpress_error_body(body, status=status)


def test_a_tracestate_with_spaces_is_kept_and_a_non_ascii_one_dropped() -> None:
    from integration.context import context_from_headers

    kept = context_from_headers(runtime_headers("ping", FAKE_CONFIG, tracestate="congo=t61rcWkgMzE, rojo=00f067aa"))
    dropped = context_from_headers(runtime_headers("ping", FAKE_CONFIG, tracestate="k=\u00e9"))
    assert kept.trace_headers["tracestate"] == "congo=t61rcWkgMzE, rojo=00f067aa"
    assert "tracestate" not in dropped.trace_headers and "traceparent" in dropped.trace_headers
