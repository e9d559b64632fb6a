"""The wire protocol: every operation, with good and bad input, answered as the SDK answers."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import FAKE_CONFIG
from tests.contracts.botpress import validate_botpress_error_body
from tests.factories import action_body, runtime_headers
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeDesk

ERROR_ID = re.compile(r"^err_\d{14}x[0-9A-F]{8}$")


async def post(
    client: TestClient[web.Request, web.Application], operation: str, body: str | None, **headers: str
) -> tuple[int, Any]:
    response = await client.post("/", data=body, headers=runtime_headers(operation, FAKE_CONFIG, **headers))
    return response.status, json.loads(await response.text())


def assert_error(status: int, body: Any, expected_status: int, error_type: str, fragment: str) -> None:
    assert status == expected_status, body
    validate_botpress_error_body(body, status=status)
    assert ERROR_ID.match(body["id"])
    assert body["type"] == error_type and body["code"] == expected_status
    assert fragment in body["message"]


async def test_health_answers_ok(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/health")
    assert response.status == 200 and await response.text() == "ok"


@pytest.mark.parametrize("path", ["/", "/any/path", "/x?y=1"])
async def test_ping_on_any_path_answers_empty_object(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.post(path, data="", headers=runtime_headers("ping", FAKE_CONFIG))
    assert response.status == 200 and json.loads(await response.text()) == {}


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("x-bot-id", "Missing bot header"),
        ("x-bot-user-id", "Missing bot user header"),
        ("x-integration-id", "Missing integration header"),
        ("x-integration-alias", "Missing integration alias header"),
        ("x-webhook-id", "Missing webhook header"),
        ("x-bp-operation", "Missing operation header"),
        ("x-bp-configuration", "Missing configuration header"),
    ],
)
async def test_missing_context_header_is_a_bare_500(
    client: TestClient[web.Request, web.Application], missing: str, message: str
) -> None:
    headers = runtime_headers("ping", FAKE_CONFIG)
    del headers[missing]
    response = await client.post("/", data="{}", headers=headers)
    assert response.status == 500
    assert json.loads(await response.text()) == {"error": message}


async def test_undecodable_configuration_is_a_bare_500(client: TestClient[web.Request, web.Application]) -> None:
    headers = runtime_headers("ping", FAKE_CONFIG) | {"x-bp-configuration": "%%%not-base64"}
    response = await client.post("/", data="{}", headers=headers)
    assert response.status == 500 and "configuration" in json.loads(await response.text())["error"]


@pytest.mark.parametrize("alphabet", ["standard", "urlsafe-unpadded"])
async def test_configuration_in_either_base64_alphabet(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, alphabet: str
) -> None:
    raw = json.dumps({**FAKE_CONFIG, "deskName": "ü?>>"}).encode()
    encoded = base64.b64encode(raw).decode()
    if alphabet != "standard":
        encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    headers = runtime_headers("register", FAKE_CONFIG) | {"x-bp-configuration": encoded}
    response = await client.post("/", data=json.dumps({"webhookUrl": "https://hook/1"}), headers=headers)
    assert response.status == 200
    assert desk.subscriptions


async def test_unknown_operation_is_invalid_payload(client: TestClient[web.Request, web.Application]) -> None:
    status, body = await post(client, "event_received", "{}")
    assert_error(status, body, 400, "InvalidPayload", "Unknown operation event_received")


@pytest.mark.parametrize("body", [None, "", "{not json"])
async def test_unreadable_body_is_invalid_payload(
    client: TestClient[web.Request, web.Application], body: str | None
) -> None:
    status, payload = await post(client, "action_triggered", body)
    assert_error(status, payload, 400, "InvalidPayload", "body")


async def test_missing_action_type(client: TestClient[web.Request, web.Application]) -> None:
    status, body = await post(client, "action_triggered", json.dumps({"input": {}}))
    assert_error(status, body, 400, "InvalidPayload", "Missing action type")


async def test_unknown_action(client: TestClient[web.Request, web.Application]) -> None:
    status, body = await post(client, "action_triggered", action_body("doesNotExist", {}))
    assert_error(status, body, 400, "InvalidPayload", "Action doesNotExist not found")


@pytest.mark.parametrize(
    ("action_input", "field"),
    [
        ({"title": "t", "messageHistory": []}, "input.userId"),
        (
            {"userId": "u", "messageHistory": [{"source": {"type": "bot"}, "type": "text", "payload": {"text": ""}}]},
            "input.messageHistory.0",
        ),
        ({"userId": "u", "messageHistory": "nope"}, "input.messageHistory"),
        ({"userId": "u", "messageHistory": [], "hitlSession": {"priority": "critical"}}, "hitlSession.priority"),
        ("not an object", "input"),
    ],
)
async def test_bad_start_hitl_input_names_the_field(
    client: TestClient[web.Request, web.Application], action_input: Any, field: str
) -> None:
    status, body = await post(client, "action_triggered", action_body("startHitl", action_input))
    assert_error(status, body, 400, "InvalidPayload", field)


async def test_bad_configuration_names_the_field(client: TestClient[web.Request, web.Application]) -> None:
    headers = runtime_headers("action_triggered", {"adapter": "fake", "secret": "x"})
    response = await client.post("/", data=action_body("stopHitl", {"conversationId": "c"}), headers=headers)
    body = json.loads(await response.text())
    assert_error(response.status, body, 400, "InvalidPayload", "configuration.secret")


async def test_unknown_adapter_lists_the_available_ones(client: TestClient[web.Request, web.Application]) -> None:
    headers = runtime_headers("action_triggered", {"adapter": "nope"})
    response = await client.post("/", data=action_body("stopHitl", {"conversationId": "c"}), headers=headers)
    body = json.loads(await response.text())
    assert_error(response.status, body, 400, "Runtime", "available adapters: ")
    assert "fake" in body["message"] and "zendesk" in body["message"]


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("message_updated", {"type": "text", "payload": {"text": "x"}, "conversation": {}, "user": {}}),
        ("conversation_updated", {"currentConversation": {}, "previousConversation": {}}),
        ("create_user", {"tags": {"id": "1"}}),
        ("create_conversation", {"channel": "hitl", "tags": {"id": "1"}}),
    ],
)
async def test_notification_and_legacy_operations_answer_200(
    client: TestClient[web.Request, web.Application], operation: str, body: Any
) -> None:
    status, payload = await post(client, operation, json.dumps(body))
    assert (status, payload) == (200, {})


async def test_legacy_create_conversation_without_channel_is_invalid(
    client: TestClient[web.Request, web.Application],
) -> None:
    status, body = await post(client, "create_conversation", json.dumps({"tags": {}}))
    assert_error(status, body, 400, "InvalidPayload", "body.channel")


async def test_register_and_unregister_reach_the_adapter(
    client: TestClient[web.Request, web.Application], desk: FakeDesk
) -> None:
    assert await post(client, "register", json.dumps({"webhookUrl": "https://hook/1"})) == (200, {})
    assert desk.subscriptions == {"bot_01JTEST000000000000000000000": "https://hook/1"}
    assert await post(client, "unregister", json.dumps({"webhookUrl": "https://hook/1"})) == (200, {})
    assert desk.subscriptions == {}


async def test_register_without_webhook_url_names_it(client: TestClient[web.Request, web.Application]) -> None:
    status, body = await post(client, "register", "{}")
    assert_error(status, body, 400, "InvalidPayload", "body.webhookUrl")


async def test_unexpected_error_is_the_generic_500(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    desk.fail_next_send = ZeroDivisionError("boom")
    from tests.integration.hitl.test_flow import start_session

    conversation_id, session_id = await start_session(client, fake_botpress)
    from tests.integration.hitl.test_flow import bot_message

    body = bot_message(
        fake_botpress, conversation_id, session_id, "msg_01JAAAAAAAAAAAAAAAAAAAAAAAAA", "text", {"text": "hi"}
    )
    status, payload = await post(client, "message_created", body)
    validate_botpress_error_body(payload, status=status)
    assert status == 500 and payload["code"] == 500 and payload["type"] == "Internal"
    assert payload["message"].startswith("An unexpected error occurred in the integration.")
    assert "boom" not in payload["message"]


async def test_invalid_utf8_body_is_invalid_payload_not_a_crash(
    client: TestClient[web.Request, web.Application],
) -> None:
    headers = runtime_headers("action_triggered", FAKE_CONFIG)
    response = await client.post("/", data=b'{"type": "\xff\xfe"', headers=headers)
    body = json.loads(await response.text())
    assert_error(response.status, body, 400, "InvalidPayload", "Invalid JSON body")


async def test_secret_path_hides_operations(aiohttp_client: Any, tmp_path: Any, fake_botpress: FakeBotpress) -> None:
    from pydantic import SecretStr

    from integration.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(tmp_path, secret_path=SecretStr("s3cr3t-path")))
    secured = await aiohttp_client(app)
    headers = runtime_headers("ping", FAKE_CONFIG)
    assert (await secured.post("/", data="{}", headers=headers)).status == 404
    assert (await secured.post("/wrong/x", data="{}", headers=headers)).status == 404
    assert (await secured.post("/s3cr3t-path/", data="{}", headers=headers)).status == 200
    assert (await secured.get("/health")).status == 200


async def test_bot_allow_list(aiohttp_client: Any, tmp_path: Any, fake_botpress: FakeBotpress) -> None:
    from integration.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(tmp_path, allowed_bot_ids=["bot_someone_else"]))
    guarded = await aiohttp_client(app)
    response = await guarded.post("/", data="{}", headers=runtime_headers("ping", FAKE_CONFIG))
    body = json.loads(await response.text())
    assert response.status == 403 and body["type"] == "Forbidden" and "not served here" in body["message"]
