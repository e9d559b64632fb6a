"""Agent replies through the real app: each comment applied once and in order, with the ticket's high-water mark.

What the mark must never cost: a comment (a late webhook, a crash or a failed Botpress call before the mark
moves, two workers racing), or an agent's new name. What it saves: a redelivery reads and posts nothing. The
subscription cached per worker must still verify a delivery signed after another worker registered again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from external_adapters import WebhookRequest
from external_adapters.zendesk import ZendeskRuntime, marks
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS, SERVICES
from integration.botpress import Conversation
from integration.context import context_from_headers
from integration.hitl.lookups import remember_conversation
from tests import conftest as shared
from tests.adapter_kit import RecordedSleeps, fixed_dns
from tests.contracts.botpress import BotpressMockRouter
from tests.contracts.zendesk import ZendeskMockRouter
from tests.factories import runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress
from tests.integration.call_log import Bridge
from tests.integration.hitl.test_workers import UPSTREAM_SECONDS, slow_upstream

from .conftest import CONFIG
from .fake_zendesk import FakeZendesk

ZENDESK_CONFIG = {**CONFIG, "adapter": "zendesk", "closeStatus": "closed"}
BP_WEBHOOK_URL = "https://webhook.botpress.cloud/wh_01JTESTWEBHOOK000000000000000"
Client = TestClient[web.Request, web.Application]


async def _worker(aiohttp_client: Any, data_dir: Path, fake_botpress: FakeBotpress, **settings: Any) -> Bridge:
    app: web.Application = create_app(shared.test_settings(data_dir, adapter="zendesk", **settings))
    client: Client = await aiohttp_client(app)
    runtime = client.app[ADAPTER_BACKENDS]["zendesk"]
    assert isinstance(runtime, ZendeskRuntime)
    runtime.sleep, runtime.resolve = RecordedSleeps(), fixed_dns
    return Bridge(client, ZENDESK_CONFIG, fake_botpress)


@pytest.fixture
async def bridge(aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk) -> Bridge:
    return await _worker(aiohttp_client, tmp_path, fake_botpress)


async def _session(bridge: Bridge) -> tuple[str, int]:
    """Register, then one handoff: the Botpress conversation and its ticket."""
    await bridge.call("register", {"webhookUrl": BP_WEBHOOK_URL})
    bp_user_id = await bridge.create_user("jane@example.com")
    bp_conversation_id, ticket = await bridge.start_hitl(bp_user_id, "Help")
    return bp_conversation_id, int(ticket)


def _texts(fake_botpress: FakeBotpress, bp_conversation_id: str) -> list[str]:
    return [m["payload"]["text"] for m in fake_botpress.messages_in(bp_conversation_id) if m["type"] == "text"]


async def _status(bridge: Bridge, request: WebhookRequest) -> int:
    """The status of a webhook_received the app may fail (Botpress redelivers it then)."""
    body = webhook_body(request.model_dump())
    response = await bridge.client.post("/", data=body, headers=runtime_headers("webhook_received", ZENDESK_CONFIG))
    return response.status


async def test_a_redelivered_reply_reads_nothing_and_posts_nothing(
    bridge: Bridge, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    (reply,) = fake_zendesk.agent_comment(ticket, "<p>Hello</p>")
    await bridge.webhook(reply)
    pages = fake_zendesk.comment_pages_served
    await bridge.webhook(reply)
    assert fake_zendesk.comment_pages_served == pages  # at or below the mark: no comment read
    assert _texts(fake_botpress, bp_conversation_id) == ["Hello"]


async def test_a_late_webhook_older_than_the_newest_20_comments_is_applied_once_and_in_order(
    bridge: Bridge, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    await bridge.webhook(fake_zendesk.agent_comment(ticket, "<p>first</p>")[0])  # the mark is at "first"
    (late,) = fake_zendesk.agent_comment(ticket, "<p>late</p>")  # its webhook is delayed
    for n in range(30):  # the user's messages relayed meanwhile: comments too
        fake_zendesk.agent_comment(ticket, f"<p>user message {n}</p>", via="api")
    (newest,) = fake_zendesk.agent_comment(ticket, "<p>newest</p>")
    fake_zendesk.comment_pages_served = 0
    await bridge.webhook(late)
    assert fake_zendesk.comment_pages_served == 2  # the newest 20, then a page of 100 back to the mark
    await bridge.webhook(newest)
    assert fake_zendesk.comment_pages_served == 2  # "newest" came with "late": at the mark, nothing read
    assert _texts(fake_botpress, bp_conversation_id) == ["first", "late", "newest"]


async def test_a_failed_message_create_leaves_the_mark_so_the_redelivery_applies_it(
    bridge: Bridge, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    (reply,) = fake_zendesk.agent_comment(ticket, "<p>Hello</p>")
    with monkeypatch.context() as patched:
        patched.setattr(fake_botpress, "_new_message", _unreachable)
        assert await _status(bridge, reply) >= 500  # Botpress redelivers the webhook
    await bridge.webhook(reply)
    assert _texts(fake_botpress, bp_conversation_id) == ["Hello"]


async def test_a_crash_after_the_message_before_the_mark_moves_posts_it_once_on_the_redelivery(
    bridge: Bridge, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    (reply,) = fake_zendesk.agent_comment(ticket, "<p>Hello</p>")
    with monkeypatch.context() as patched:
        patched.setattr(marks, "advance", _crash)
        assert await _status(bridge, reply) >= 500
    assert _texts(fake_botpress, bp_conversation_id) == ["Hello"]  # the message was made, the mark did not move
    pages = fake_zendesk.comment_pages_served
    await bridge.webhook(reply)
    assert fake_zendesk.comment_pages_served == pages + 1  # read again: the mark had not moved
    assert _texts(fake_botpress, bp_conversation_id) == ["Hello"]  # the get-or-create on its tag found it
    await bridge.webhook(reply)
    assert fake_zendesk.comment_pages_served == pages + 1  # the mark moved this time


async def test_a_session_seeded_by_start_hitl_looks_no_conversation_up(
    bridge: Bridge, bp_api: BotpressMockRouter, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    headers = {k.lower(): v for k, v in runtime_headers("action_triggered", ZENDESK_CONFIG).items()}
    deps = bridge.client.app[SERVICES].deps_for(context_from_headers(headers))
    conversation = Conversation.model_validate(fake_botpress.conversations[bp_conversation_id])
    await remember_conversation(deps, str(ticket), conversation)  # what startHitl does once it links the session
    await bridge.webhook(fake_zendesk.agent_comment(ticket, "<p>Hello</p>")[0])
    assert not [call for call in bp_api.calls if call.request.url.path.endswith("/conversations")]
    assert _texts(fake_botpress, bp_conversation_id) == ["Hello"]


async def test_an_agent_renamed_in_zendesk_is_renamed_in_botpress(
    bridge: Bridge, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    bp_conversation_id, ticket = await _session(bridge)
    await bridge.webhook(fake_zendesk.agent_comment(ticket, "<p>Hello</p>")[0])
    fake_zendesk.users[fake_zendesk.agent]["name"] = "Robert Agent"
    await bridge.webhook(fake_zendesk.agent_comment(ticket, "<p>It's Robert now</p>")[0])
    authors = {m["userId"] for m in fake_botpress.messages_in(bp_conversation_id) if m["type"] == "text"}
    assert len(authors) == 1
    assert fake_botpress.users[authors.pop()]["name"] == "Robert Agent"


async def test_a_subscription_registered_again_on_another_worker_still_verifies(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    worker_a = await _worker(aiohttp_client, tmp_path / "a", fake_botpress)
    worker_b = await _worker(aiohttp_client, tmp_path / "b", fake_botpress)
    bp_conversation_id, ticket = await _session(worker_a)
    await worker_b.webhook(fake_zendesk.agent_comment(ticket, "<p>one</p>")[0])  # b caches the subscription
    await worker_a.call("register", {"webhookUrl": BP_WEBHOOK_URL})  # a new webhook, with a new secret
    (signed_anew,) = fake_zendesk.agent_comment(ticket, "<p>two</p>")
    await worker_b.webhook(signed_anew)  # b's cached secret is stale: read again, then verified
    assert _texts(fake_botpress, bp_conversation_id) == ["one", "two"]


async def test_consecutive_comments_racing_on_two_workers_are_applied_once_each_and_in_order(
    aiohttp_client: Any,
    tmp_path: Path,
    pg_url: SecretStr,
    bp_api: BotpressMockRouter,
    zendesk_api: ZendeskMockRouter,
    fake_botpress: FakeBotpress,
    fake_zendesk: FakeZendesk,
) -> None:
    workers = [
        await _worker(aiohttp_client, tmp_path / name, fake_botpress, database_url=pg_url) for name in ("a", "b")
    ]
    bp_conversation_id, ticket = await _session(workers[0])
    for upstream in (bp_api, zendesk_api):
        slow_upstream(upstream, UPSTREAM_SECONDS)  # so that the two deliveries overlap
    expected: list[str] = []
    for round_ in range(4):
        first, second = workers[round_ % 2], workers[1 - round_ % 2]  # both ways round
        read = fake_zendesk.comment_pages_served
        (one,) = fake_zendesk.agent_comment(ticket, f"<p>{round_}.1</p>")
        applying = asyncio.create_task(first.webhook(one))
        await _pages_served(fake_zendesk, read + 1)  # it has read its comments, and goes on
        (two,) = fake_zendesk.agent_comment(ticket, f"<p>{round_}.2</p>")
        await asyncio.gather(applying, second.webhook(two))
        expected += [f"{round_}.1", f"{round_}.2"]
    assert _texts(fake_botpress, bp_conversation_id) == expected


async def _pages_served(fake_zendesk: FakeZendesk, count: int) -> None:
    """Until the fake Zendesk has served ``count`` comment pages (10 s at most). Polled: the server tells nobody."""
    async with asyncio.timeout(10):
        while True:
            if fake_zendesk.comment_pages_served >= count:
                return
            await asyncio.sleep(0.001)


def _unreachable(body: dict[str, Any]) -> dict[str, Any]:
    raise httpx.ConnectError("Botpress is unreachable")


async def _crash(*args: Any) -> None:
    raise RuntimeError("the worker died before the mark moved")
