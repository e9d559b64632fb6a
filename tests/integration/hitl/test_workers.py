"""Two workers on one PostgreSQL: two apps in this process, each with its own Services and coordinator.

They share what real workers share: the database (the journal, the locks, the memo), Botpress (the fake, slowed to
20 ms a call so that their requests overlap) and the helpdesk (one fake desk). Per-process guards would let both
workers send, emit or write; the coordinator's make it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from external_adapters import register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS, SERVICES
from tests import conftest as shared
from tests.contracts.botpress import BotpressMockRouter
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk

from .test_flow import _webhook, action, bot_message, call, start_session

Client = TestClient[web.Request, web.Application]
UPSTREAM_SECONDS = 0.02
MESSAGE_ID = "msg_01JWORKERS0000000000000000"


def slow_upstream(router: respx.MockRouter, seconds: float) -> None:
    """Every answer of ``router``'s fake comes ``seconds`` late (the fake still commits each request at once)."""
    for route in router.routes:
        route.side_effect = _delayed(route.side_effect, route.return_value, seconds)


def _delayed(original: Any, fixed: httpx.Response | None, seconds: float) -> Callable[..., Any]:
    async def effect(request: httpx.Request, **params: Any) -> Any:
        response = original(request, **params) if callable(original) else fixed
        await asyncio.sleep(seconds)
        return response

    return effect


@pytest.fixture
async def workers(
    aiohttp_client: AiohttpClient, tmp_path: Path, pg_url: SecretStr, bp_api: BotpressMockRouter
) -> tuple[Client, Client, FakeDesk, FakeBotpress]:
    """Two workers (own data folders, one database), the desk they share, and the fake Botpress."""
    register_adapter(FakeAdapter, clobber=True)
    fake_botpress = FakeBotpress().install(bp_api)
    clients = []
    for name in ("a", "b"):
        settings = shared.test_settings(tmp_path / name, database_url=pg_url, plugin_takeover_wait_seconds=0)
        clients.append(await aiohttp_client(create_app(settings)))
    desk = clients[0].app[ADAPTER_BACKENDS]["fake"]
    assert isinstance(desk, FakeDesk)
    clients[1].app[ADAPTER_BACKENDS]["fake"] = desk  # one helpdesk behind both workers
    slow_upstream(bp_api, UPSTREAM_SECONDS)
    return clients[0], clients[1], desk, fake_botpress


async def test_concurrent_redeliveries_on_two_workers_send_one_message(
    workers: tuple[Client, Client, FakeDesk, FakeBotpress],
) -> None:
    worker_a, worker_b, desk, fake_botpress = workers
    conversation_id, session_id = await start_session(worker_a, fake_botpress)
    body = bot_message(fake_botpress, conversation_id, session_id, MESSAGE_ID, "text", {"text": "once"})
    desk.send_delay = UPSTREAM_SECONDS  # the desk is slow too: every delivery overlaps the others

    answers = await asyncio.gather(*(call(worker, "message_created", body) for worker in [worker_a, worker_b] * 2))

    assert answers == [(200, {})] * 4
    assert [sent.bp_message_id for sent in desk.sent] == [MESSAGE_ID]
    assert fake_botpress.messages[MESSAGE_ID]["tags"]["id"] == desk.message_ids[MESSAGE_ID]


async def test_assign_and_close_racing_on_two_workers_emit_each_event_once_and_lose_no_write(
    workers: tuple[Client, Client, FakeDesk, FakeBotpress], monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_a, worker_b, _, fake_botpress = workers
    conversation_id, session_id = await start_session(worker_a, fake_botpress)
    assign = _webhook({"kind": "assign", "session": session_id, "key": "as-1", "agent": "a-9"})
    close = _webhook({"kind": "close", "session": session_id, "key": "cl-1"})
    locked = _on_conversation_lock(worker_a, monkeypatch)

    first = asyncio.create_task(call(worker_a, "webhook_received", assign))
    await locked.wait()  # the assignment holds the conversation on worker A: the rest races it from there
    rest = [call(worker_b, "webhook_received", close), call(worker_b, "webhook_received", assign)]
    rest += [call(worker_a, "webhook_received", close)]
    answers = [await first, *await asyncio.gather(*rest)]

    assert [status for status, _ in answers] == [200] * 4
    assert sorted(fake_botpress.event_types()) == ["hitlAssigned", "hitlStopped"]
    state = fake_botpress.states[("conversation", conversation_id, "hitlSession")]["payload"]
    assert state["closed"] is True and state["assignedAgentId"]  # neither write was lost


async def test_stop_hitl_racing_an_assignment_on_another_worker_loses_no_write(
    workers: tuple[Client, Client, FakeDesk, FakeBotpress], monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_a, worker_b, desk, fake_botpress = workers
    conversation_id, session_id = await start_session(worker_a, fake_botpress)
    assign = _webhook({"kind": "assign", "session": session_id, "key": "as-1", "agent": "a-9"})
    locked = _on_conversation_lock(worker_a, monkeypatch)

    first = asyncio.create_task(call(worker_a, "webhook_received", assign))
    await locked.wait()
    await action(worker_b, "stopHitl", {"conversationId": conversation_id})
    assert (await first)[0] == 200

    state = fake_botpress.states[("conversation", conversation_id, "hitlSession")]["payload"]
    assert state["closed"] is True and state["assignedAgentId"]
    assert desk.sessions[session_id]["status"] == "closed"


async def test_concurrent_identical_start_hitl_on_two_workers_open_one_session(
    workers: tuple[Client, Client, FakeDesk, FakeBotpress],
) -> None:
    worker_a, worker_b, desk, fake_botpress = workers
    user_id = (await action(worker_a, "createUser", {"name": "Jane", "email": "jane@example.com"}))["userId"]
    start = {"userId": user_id, "title": "Refund", "messageHistory": []}

    outputs = await asyncio.gather(*(action(worker, "startHitl", start) for worker in [worker_a, worker_b] * 2))

    assert len({output["conversationId"] for output in outputs}) == 1
    assert len(desk.sessions) == 1 and len(fake_botpress.conversations) == 1


def _on_conversation_lock(client: Client, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """An event set once the worker holds a conversation's lock (its first one)."""
    coordinator = client.app[SERVICES].coordinator
    original = coordinator.lock
    locked = asyncio.Event()

    @asynccontextmanager
    async def lock(key: str) -> AsyncIterator[None]:
        async with original(key):
            if key.startswith("conv:"):
                locked.set()
            yield

    def patched(key: str) -> AbstractAsyncContextManager[None]:
        return lock(key)

    monkeypatch.setattr(coordinator, "lock", patched)
    return locked
