"""Answering first (WebhookAck): the fake desk in its ack mode, through the real app, its worker and the queue.

Each test counts by unique tokens (texts, delivery ids): nothing lost, nothing applied twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import respx
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from coordination import QueueState, work_queue_of
from external_adapters import register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS, BACKEND, SERVICES
from integration.hitl.deferred import WAKE_CHANNEL, decode
from integration.hitl.inbound import apply_event
from tests import conftest as shared
from tests.conftest import FAKE_CONFIG
from tests.contracts.botpress import TEST_BOT_ID, TEST_INTEGRATION_ID, BotpressMockRouter
from tests.factories import runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk, FakeHarness, fake_webhook

from .test_flow import start_session

Client = TestClient[web.Request, web.Application]
ACK_CONFIG = {**FAKE_CONFIG, "ackFirst": True}
ACKED = (200, {"ok": True})


def reply(session_id: str, text: str) -> dict[str, Any]:
    """An agent reply of the fake desk (its text is its unique token)."""
    return {"kind": "reply", "session": session_id, "text": text, "message": f"c-{text}", "key": f"k-{text}"}


async def deliver(client: Client, *events: dict[str, Any], delivery: str, thread: str = "t-1") -> tuple[int, Any]:
    """A signed delivery to the installation in ack mode."""
    request = fake_webhook(FakeHarness.secret, *events, delivery=delivery, thread=thread)
    headers = runtime_headers("webhook_received", ACK_CONFIG)
    response = await client.post("/", data=webhook_body(request.model_dump()), headers=headers)
    return response.status, json.loads(await response.text())


async def settled(client: Client, *deliveries: str) -> None:
    """Until each delivery's queue item is done (10 s at most: the worker is woken by the put)."""
    queue = work_queue_of(client.app[BACKEND].coordinator)
    keys = [f"webhook:{TEST_BOT_ID}:{TEST_INTEGRATION_ID}:{delivery}" for delivery in deliveries]
    async with asyncio.timeout(10):
        while True:  # polled: the worker tells nobody when it is done
            if all([await queue.queue_state(key) is QueueState.DONE for key in keys]):
                return
            await asyncio.sleep(0.01)


def texts(fake_botpress: FakeBotpress, bp_conversation_id: str) -> list[str]:
    return [m["payload"].get("text", "") for m in fake_botpress.messages_in(bp_conversation_id)]


def hold(router: respx.MockRouter, gate: asyncio.Event) -> None:
    """Every Botpress answer waits for ``gate`` (a Botpress slower than any vendor's deadline)."""
    for route in router.routes:
        route.side_effect = _held(route.side_effect, route.return_value, gate)


def _held(original: Any, fixed: httpx.Response | None, gate: asyncio.Event) -> Callable[..., Any]:
    async def effect(request: httpx.Request, **params: Any) -> Any:
        await gate.wait()
        return original(request, **params) if callable(original) else fixed

    return effect


async def test_the_reply_comes_before_the_events_are_applied(
    client: Client, fake_botpress: FakeBotpress, bp_api: BotpressMockRouter
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    gate = asyncio.Event()
    hold(bp_api, gate)
    async with asyncio.timeout(10):  # applied inline, the answer would wait for Botpress: forever
        assert await deliver(client, reply(session_id, "later"), delivery="d-1") == ACKED
    assert texts(fake_botpress, conversation_id) == []
    gate.set()
    await settled(client, "d-1")
    assert texts(fake_botpress, conversation_id) == ["later"]


async def test_without_ack_the_webhook_is_applied_before_the_reply(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    request = fake_webhook(FakeHarness.secret, reply(session_id, "now"), delivery="d-1")
    response = await client.post(
        "/", data=webhook_body(request.model_dump()), headers=runtime_headers("webhook_received", FAKE_CONFIG)
    )
    assert (response.status, await response.json()) == (200, {})
    assert texts(fake_botpress, conversation_id) == ["now"]


async def test_a_repeated_work_key_is_answered_and_creates_nothing(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    for _ in range(3):
        assert await deliver(client, reply(session_id, "once"), delivery="d-1") == ACKED
    await settled(client, "d-1")
    assert await deliver(client, reply(session_id, "once"), delivery="d-1") == ACKED  # after it was done
    assert await deliver(client, reply(session_id, "twice"), delivery="d-2") == ACKED
    await settled(client, "d-2")
    assert desk.parsed == ["d-1", "d-2"]
    assert texts(fake_botpress, conversation_id) == ["once", "twice"]


async def test_a_put_wakes_the_workers_of_every_process(client: Client, fake_botpress: FakeBotpress) -> None:
    _, session_id = await start_session(client, fake_botpress)
    async with client.app[BACKEND].coordinator.subscribe(WAKE_CHANNEL) as announced:
        assert await deliver(client, reply(session_id, "soon"), delivery="d-1") == ACKED
        async with asyncio.timeout(10):
            assert await anext(announced) == "put"


async def test_a_forged_delivery_is_refused_before_it_is_queued(client: Client, fake_botpress: FakeBotpress) -> None:
    _, session_id = await start_session(client, fake_botpress)
    request = fake_webhook("wrong-secret", reply(session_id, "forged"), delivery="d-1")
    response = await client.post(
        "/", data=webhook_body(request.model_dump()), headers=runtime_headers("webhook_received", ACK_CONFIG)
    )
    assert response.status == 401
    queue = work_queue_of(client.app[BACKEND].coordinator)
    assert await queue.queue_state(f"webhook:{TEST_BOT_ID}:{TEST_INTEGRATION_ID}:d-1") is None


async def _app(aiohttp_client: AiohttpClient, data_dir: Path, **overrides: Any) -> Client:
    register_adapter(FakeAdapter, clobber=True)
    return await aiohttp_client(create_app(shared.test_settings(data_dir, **overrides)))


async def test_a_crash_after_the_put_leaves_the_item_to_the_next_process(
    aiohttp_client: AiohttpClient, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    first = await _app(aiohttp_client, tmp_path, work_concurrency=0)  # a process that dies before it takes any
    conversation_id, session_id = await start_session(first, fake_botpress)
    assert await deliver(first, reply(session_id, "kept"), delivery="d-1") == ACKED
    await first.close()
    assert texts(fake_botpress, conversation_id) == []
    second = await _app(aiohttp_client, tmp_path)
    await settled(second, "d-1")
    assert texts(fake_botpress, conversation_id) == ["kept"]


async def test_a_crash_in_the_middle_is_finished_by_the_next_process_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    first = await _app(aiohttp_client, tmp_path, work_concurrency=0)
    conversation_id, session_id = await start_session(first, fake_botpress)
    assign = {"kind": "assign", "session": session_id, "key": "as-1", "agent": "a-9"}
    assert await deliver(first, reply(session_id, "half"), assign, delivery="d-1") == ACKED
    # The doomed worker takes the item (a lease that ends at once: the process is killed) and applies its first
    # event only, then dies before the second and before queue_done.
    [item] = await work_queue_of(first.app[BACKEND].coordinator).queue_take("doomed", 0, 1, 10)
    deps = first.app[SERVICES].deps_for(decode(item.payload).ctx)
    result = await deps.adapter.parse_webhook(decode(item.payload).request)
    await apply_event(deps, result.events[0])
    await first.close()
    second = await _app(aiohttp_client, tmp_path)
    await settled(second, "d-1")
    assert texts(fake_botpress, conversation_id) == ["half"]
    assert fake_botpress.event_types() == ["hitlAssigned"]


async def test_one_threads_deliveries_keep_their_order_across_workers_on_postgresql(
    aiohttp_client: AiohttpClient, tmp_path: Path, pg_url: SecretStr, fake_botpress: FakeBotpress
) -> None:
    workers = [await _app(aiohttp_client, tmp_path / name, database_url=pg_url) for name in ("a", "b")]
    desk = workers[0].app[ADAPTER_BACKENDS]["fake"]
    workers[1].app[ADAPTER_BACKENDS]["fake"] = desk  # one helpdesk behind both workers
    conversation_id, session_id = await start_session(workers[0], fake_botpress)
    tokens = [f"m{n:02d}" for n in range(12)]
    for n, token in enumerate(tokens):
        assert await deliver(workers[n % 2], reply(session_id, token), delivery=f"d-{token}") == ACKED
    await settled(workers[0], *(f"d-{token}" for token in tokens))
    assert texts(fake_botpress, conversation_id) == tokens
