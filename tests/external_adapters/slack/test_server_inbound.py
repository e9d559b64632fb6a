"""The inbound side through the real server: signed Slack deliveries relayed as ``webhook_received``, applied in
the fake Botpress, against the fake Slack workspace (a reply and its redelivery, a file, claims, close)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import WebhookRequest
from external_adapters.slack.runtime import SlackRuntime
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from tests import conftest as shared
from tests.adapter_kit import RecordedSleeps
from tests.contracts.slack import SlackMockRouter
from tests.factories import action_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

from .fake_slack import FakeSlack
from .harness import AGENT_ID, CONFIG, SlackHarness, signed

SLACK_CONFIG = {**CONFIG, "adapter": "slack"}
WEBHOOK_URL = "https://webhook.botpress.cloud/wh_01JTESTWEBHOOK000000000000000"
OTHER_AGENT = "UAGENT002"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, fake_slack: FakeSlack) -> Client:
    settings = shared.test_settings(tmp_path, adapter="slack", console=True)
    test_client: Client = await aiohttp_client(create_app(settings))
    runtime = test_client.app[ADAPTER_BACKENDS]["slack"]
    assert isinstance(runtime, SlackRuntime)
    runtime.sleep = RecordedSleeps()
    fake_slack.users[OTHER_AGENT] = {"id": OTHER_AGENT, "name": "carol", "profile": {"real_name": "Carol Agent"}}
    return test_client


async def call(client: Client, operation: str, body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    response = await client.post("/", data=data, headers=runtime_headers(operation, SLACK_CONFIG))
    text = await response.text()
    return response.status, json.loads(text) if text else None


async def deliver(client: Client, request: WebhookRequest) -> tuple[int, Any]:
    return await call(client, "webhook_received", webhook_body(request.model_dump()))


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for work done after the answer (the deferred path), boundedly; at once when it ran inline."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the delivery's work was not done")


async def _handoff(client: Client, fake_botpress: FakeBotpress) -> tuple[str, str]:
    assert (await call(client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    status, created = await call(client, "action_triggered", action_body("createUser", {"name": "Jane Doe"}))
    assert status == 200, created
    bp_user_id = created["output"]["userId"]
    start = {"userId": bp_user_id, "title": "Refund", "messageHistory": []}
    status, started = await call(client, "action_triggered", action_body("startHitl", start))
    assert status == 200, started
    conversation_id = started["output"]["conversationId"]
    return conversation_id, str(fake_botpress.conversations[conversation_id]["tags"]["id"])


def _harness(fake_slack: FakeSlack, slack_api: SlackMockRouter) -> SlackHarness:
    return SlackHarness(None, fake_slack, None, None, slack_api)  # type: ignore[arg-type]  # only its deliveries


async def test_replies_files_claims_and_close_through_the_server(
    client: Client, fake_botpress: FakeBotpress, fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    conversation_id, session_id = await _handoff(client, fake_botpress)
    desk = _harness(fake_slack, slack_api)

    def texts() -> list[str]:
        return [str(m["payload"].get("text")) for m in fake_botpress.messages_in(conversation_id)]

    reply = await desk.agent_reply(session_id, "Hi *Jane*, I can help")
    assert (await deliver(client, reply))[0] == 200
    await eventually(lambda: "Hi **Jane**, I can help" in texts())
    redelivery = reply.model_copy(update={"headers": {**reply.headers, "X-Slack-Retry-Num": "1"}})
    assert (await deliver(client, redelivery))[0] == 200
    await eventually(lambda: fake_botpress.event_types() == ["hitlAssigned"])  # the first reply claimed it
    assert texts().count("Hi **Jane**, I can help") == 1
    author = fake_botpress.users[fake_botpress.messages_in(conversation_id)[-1]["userId"]]
    assert author["name"] == "Bob Agent"
    assert "Claimed by Bob Agent" in json.dumps(fake_slack.parent(session_id)["blocks"])

    late = desk.click(session_id, "hitl_claim", "Claim", user_id=OTHER_AGENT)
    assert (await deliver(client, late))[0] == 200
    await eventually(lambda: any(e["user"] == OTHER_AGENT for e in fake_slack.ephemerals))
    assert fake_slack.ephemerals[-1]["text"] == "Bob Agent has this conversation."
    assert fake_botpress.event_types() == ["hitlAssigned"]

    assert (await deliver(client, await desk.close(session_id)))[0] == 200
    await eventually(lambda: fake_botpress.event_types() == ["hitlAssigned", "hitlStopped"])
    await eventually(lambda: "hitl_close" not in json.dumps(fake_slack.parent(session_id)["blocks"]))
    assert (await deliver(client, await desk.agent_reply(session_id, "still there?")))[0] == 200
    await eventually(lambda: fake_slack.ephemerals[-1]["text"] == "This conversation is closed.")
    assert "still there?" not in texts()


async def test_an_agent_file_reaches_the_end_user_at_the_bridge(
    client: Client, fake_botpress: FakeBotpress, fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    conversation_id, session_id = await _handoff(client, fake_botpress)
    url = "https://files.slack.com/files-pri/T0ACME-F0CAT/download/cat.png"
    slack_api.get(url).mock(
        return_value=httpx.Response(200, content=b"\x89PNG cat", headers={"content-type": "image/png"})
    )
    channel_id, parent_ts = session_id.split(":")
    event = {"type": "message", "subtype": "file_share", "user": AGENT_ID, "text": "", "ts": fake_slack._next_ts(),
             "thread_ts": parent_ts, "channel": channel_id,
             "files": [{"id": "F0CAT", "name": "cat.png", "title": "cat.png", "mimetype": "image/png", "size": 9,
                        "url_private": url, "url_private_download": url}]}  # fmt: skip
    body = {"type": "event_callback", "event_id": "EvFILE0001", "event": event, "team_id": "T0ACME"}
    assert (await deliver(client, signed(json.dumps(body), "application/json")))[0] == 200
    await eventually(lambda: any(m["type"] == "image" for m in fake_botpress.messages_in(conversation_id)))
    (image,) = [m for m in fake_botpress.messages_in(conversation_id) if m["type"] == "image"]
    served = urlsplit(image["payload"]["imageUrl"])
    assert served.path.startswith("/slack/files/") and "slack.com" not in image["payload"]["imageUrl"]
    response = await client.get(f"{served.path}?{served.query}")
    assert response.status == 200 and await response.read() == b"\x89PNG cat"
    assert response.headers["Content-Type"] == "image/png"


async def test_a_forged_delivery_is_refused(client: Client, fake_botpress: FakeBotpress, fake_slack: FakeSlack) -> None:
    await _handoff(client, fake_botpress)
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    good = signed(body, "application/json")
    status, answer = await deliver(client, good)
    assert status == 200 and "abc" in json.dumps(answer)
    forged = good.model_copy(update={"headers": {**good.headers, "X-Slack-Signature": "v0=" + "0" * 64}})
    status, _ = await deliver(client, forged)
    assert status == 401
