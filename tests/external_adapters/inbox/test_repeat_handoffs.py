"""Repeat handoffs on the inbox, through the integration: once a session was resolved or stopped, the same
startHitl input opens a new inbox session and a new conversation; a retry while it is open opens nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import WebhookRequest
from external_adapters.inbox import InboxService
from external_adapters.inbox.signing import signed_headers
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from tests import conftest as shared
from tests.contracts.botpress import TEST_BOT_ID, TEST_INTEGRATION_ID
from tests.factories import action_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

from .conftest import PASSWORD

CONFIG = {"adapter": "inbox"}
HOOKS_URL = "https://hooks.example.test"
WEBHOOK_URL = f"{HOOKS_URL}/wh_01JTESTWEBHOOK"


@pytest.fixture
def hooks() -> Iterator[respx.MockRouter]:
    """The webhook URL the outbox posts to; the test relays the events itself, in order."""
    router = respx.MockRouter(base_url=HOOKS_URL, assert_all_mocked=True, assert_all_called=False)
    router.post("/wh_01JTESTWEBHOOK").mock(return_value=httpx.Response(200))
    with router:
        yield router


@pytest.fixture
async def client(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, hooks: respx.MockRouter
) -> TestClient[web.Request, web.Application]:
    app: web.Application = create_app(shared.test_settings(tmp_path, adapter="inbox"))
    test_client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
    assert (await call(test_client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    return test_client


async def call(client: TestClient[web.Request, web.Application], operation: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    response = await client.post("/", data=data, headers=runtime_headers(operation, CONFIG))
    return response.status, json.loads(await response.text())


async def action(client: TestClient[web.Request, web.Application], name: str, action_input: Any) -> Any:
    status, body = await call(client, "action_triggered", action_body(name, action_input))
    assert status == 200, body
    return body["output"]


def _service(client: TestClient[web.Request, web.Application]) -> InboxService:
    service = client.app[ADAPTER_BACKENDS]["inbox"]
    assert isinstance(service, InboxService)
    return service


async def _relay(client: TestClient[web.Request, web.Application], session_id: str) -> None:
    """Pass every event the inbox queued for the session to webhook_received, as Botpress does."""
    service = _service(client)
    installation = await service.intake.installation(TEST_BOT_ID, TEST_INTEGRATION_ID)
    assert installation is not None
    rows = await service.store.fetch_all(
        "SELECT event_id, body FROM outbox WHERE session_id = ? ORDER BY id", (session_id,)
    )
    for row in rows:
        headers = signed_headers(installation.secret, int(time.time()), row["body"], row["event_id"])
        request = WebhookRequest(method="POST", path="/", headers=headers, body=row["body"])
        assert (await call(client, "webhook_received", webhook_body(request.model_dump())))[0] == 200


async def _handoff(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, start: dict[str, Any]
) -> tuple[str, str]:
    conversation_id: str = (await action(client, "startHitl", start))["conversationId"]
    return conversation_id, fake_botpress.conversations[conversation_id]["tags"]["id"]


async def _start_input(client: TestClient[web.Request, web.Application]) -> dict[str, Any]:
    bp_user_id = (await action(client, "createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    return {"userId": bp_user_id, "title": "Refund", "messageHistory": []}


async def test_same_input_after_an_agent_resolved_opens_a_new_session(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    service = _service(client)
    agent = await service.agents.create("bob@example.com", PASSWORD, name="Bob", groups=(), role="agent")
    agent = await service.agents.set_status(agent.id, "available")
    start = await _start_input(client)
    first, first_session = await _handoff(client, fake_botpress, start)
    assert await _handoff(client, fake_botpress, start) == (first, first_session)  # a retry while open
    await service.actions.claim(agent, first_session)
    await service.actions.resolve(agent, first_session)
    await _relay(client, first_session)
    assert fake_botpress.event_types() == ["hitlAssigned", "hitlStopped"]
    second, second_session = await _handoff(client, fake_botpress, start)
    assert (second, second_session) != (first, first_session)
    detail = await service.queries.detail(agent, second_session)
    assert detail["session"]["state"] != "closed"


async def test_same_input_after_stop_hitl_opens_a_new_session(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    start = await _start_input(client)
    first, first_session = await _handoff(client, fake_botpress, start)
    await _relay(client, first_session)  # nobody can take it: the inbox ended it at once (NO_AGENTS)
    assert fake_botpress.event_types() == ["hitlStopped"]
    assert await action(client, "stopHitl", {"conversationId": first}) == {}
    second, second_session = await _handoff(client, fake_botpress, start)
    assert second != first and second_session != first_session
    assert len(fake_botpress.conversations) == 2
