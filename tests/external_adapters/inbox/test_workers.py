"""Two inbox services on one database, as two workers: each write happens once, whoever races it.

On PostgreSQL these are two workers as two processes would be: each its own pool and its own
:class:`~coordination.PostgresCoordinator` (``LISTEN/NOTIFY``, advisory-lock leadership) on one database. On SQLite
(which serves one process in production) they are two connections to one file, coordinated by
:class:`~.shared_coordinator.SharedCoordinator`, an in-memory double of the port.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from coordination import Coordinator, PostgresCoordinator, PostgresDatabase
from external_adapters.inbox.actions import Actions
from external_adapters.inbox.errors import Conflict
from external_adapters.inbox.models import Agent, Session
from external_adapters.inbox.realtime import LiveEvent
from external_adapters.inbox.service import TIMEOUT_LEADERSHIP, InboxService
from tests.coordination.conftest import backend_pids, terminate, wait_until

from .conftest import Clock, DatabaseFactory, add_agent, events, make_options, open_session
from .shared_coordinator import Bus, SharedCoordinator

Starter = Callable[..., Awaitable[tuple[InboxService, InboxService]]]
HOOK = "http://hooks.test/wh_1"
LEAD_POLL_SECONDS = 0.05


@pytest.fixture
async def two_workers(tmp_path: Path, clock: Clock, databases: DatabaseFactory) -> AsyncIterator[Starter]:
    """Opens two workers (subscribed to the webhook URL) with the given options; stops them at the end."""
    bus, services, coordinators = Bus(), [], []

    async def worker(**options: Any) -> InboxService:
        database = await databases()
        coordinator: Coordinator = (
            await PostgresCoordinator.open(database, lead_poll_seconds=LEAD_POLL_SECONDS)
            if isinstance(database, PostgresDatabase)
            else SharedCoordinator(bus)
        )
        coordinators.append(coordinator)
        opts = make_options(**options)
        services.append(await InboxService.open(tmp_path, opts, clock, database=database, coordinator=coordinator))
        return services[-1]

    async def start(**options: Any) -> tuple[InboxService, InboxService]:
        first, second = await worker(**options), await worker(**options)
        await first.intake.subscribe("bot_1", "intver_1", "wh_1", HOOK)
        return first, second

    yield start
    for service in services:
        await service.stop()
    for coordinator in coordinators:
        await coordinator.aclose()


async def test_two_workers_claiming_one_session_at_once_one_wins(
    two_workers: Starter, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await two_workers()
    alice, bob = await add_agent(a, "alice"), await add_agent(a, "bob")
    session_id = await open_session(a)
    both_read = asyncio.Barrier(2)
    assign = Actions._assign

    async def after_both_read(self: Actions, db: Any, session: Session, agent: Agent, text_key: str) -> None:
        # Without the row lock, both claims would have read NEEDS_ACTION by now; with it, the second is still
        # waiting for the first to commit, so the first goes on alone after a while.
        try:
            async with asyncio.timeout(0.5):
                await both_read.wait()
        except TimeoutError:
            pass
        await assign(self, db, session, agent, text_key)

    monkeypatch.setattr(Actions, "_assign", after_both_read)
    results = await asyncio.gather(
        a.actions.claim(alice, session_id), b.actions.claim(bob, session_id), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, Session)]
    assert len(won) == 1 and [type(r) for r in results if not isinstance(r, Session)] == [Conflict]
    kinds = [event["type"] for event in await events(a, session_id)]
    assert kinds.count("agent_assigned") == 1
    assert (await a.queries.detail(alice, session_id))["session"]["assigned_agent_id"] == won[0].assigned_agent_id


async def _sessions_with_events(service: InboxService, count: int) -> list[str]:
    """Sessions nobody can take: each queues a message and a close for Botpress."""
    ids = []
    for n in range(count):
        session_id = await open_session(service, f"key-{n}", ruleTags=["nobody"])
        await service.intake.link(session_id, f"conv_{n}")
        ids.append(session_id)
    return ids


@respx.mock
async def test_two_workers_deliver_each_event_once_and_in_order(two_workers: Starter) -> None:
    a, b = await two_workers()
    session_ids = await _sessions_with_events(a, 3)
    received: list[dict[str, Any]] = []

    async def receive(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other worker's pass run meanwhile
        received.append(json.loads(request.content))
        return httpx.Response(200)

    respx.post(HOOK).mock(side_effect=receive)
    async with httpx.AsyncClient() as http_a, httpx.AsyncClient() as http_b:
        outboxes = [a.attach_outbox(http_a), b.attach_outbox(http_b)]
        for _ in range(3):
            await asyncio.gather(*(outbox.deliver_due() for outbox in outboxes))
    ids = [body["id"] for body in received]
    assert len(ids) == len(set(ids)) == 6
    for session_id in session_ids:
        kinds = [body["type"] for body in received if body["sessionId"] == session_id]
        assert kinds == ["agent_message", "session_closed"]


@respx.mock
async def test_a_crashed_workers_lease_runs_out_and_another_worker_delivers(two_workers: Starter, clock: Clock) -> None:
    a, b = await two_workers(delivery_lease_seconds=60)
    await _sessions_with_events(a, 2)
    route = respx.post(HOOK).mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient() as http:
        assert len(await a.attach_outbox(http).lease_due()) == 2  # then the worker dies before sending them
        outbox = b.attach_outbox(http)
        assert await outbox.deliver_due() == 0 and route.call_count == 0
        clock.advance(60)
        assert await outbox.deliver_due() == 2
        assert await outbox.deliver_due() == 2  # each session's close, behind its message
    assert route.call_count == 4 and await outbox.pending() == []


async def test_a_write_on_one_worker_wakes_the_outbox_of_another(two_workers: Starter) -> None:
    a, b = await two_workers()
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def receive(request: httpx.Request) -> httpx.Response:
        received.put_nowait(json.loads(request.content))
        return httpx.Response(200)

    with respx.mock() as router:
        router.post(HOOK).mock(side_effect=receive)
        async with httpx.AsyncClient() as http:
            outbox = b.attach_outbox(http)
            worker = asyncio.create_task(outbox.run(idle_seconds=3600))  # no poll: only a wake-up finds the rows
            try:
                async with asyncio.timeout(10):
                    await outbox.listening.wait()
                [session_id] = await _sessions_with_events(a, 1)  # written on the other worker, which sends nothing
                async with asyncio.timeout(10):
                    first = await received.get()
            finally:
                worker.cancel()
    assert (first["sessionId"], first["type"]) == (session_id, "agent_message")


async def _crash_the_leader(services: tuple[InboxService, InboxService], database_url: SecretStr | None) -> None:
    """End the claim-timeout leader's hold as a kill -9 would (its database session ends), and wait for the other
    worker to take over."""
    if database_url is not None:
        lock = f"lead:{TIMEOUT_LEADERSHIP}"

        async def held() -> bool:
            return len(await backend_pids(database_url, lock, granted=True)) == 1

        await wait_until(held)
        [leader] = await backend_pids(database_url, lock, granted=True)
        await terminate(database_url, [leader])

        async def taken_over() -> bool:
            return (await backend_pids(database_url, lock, granted=True)) not in ([], [leader])

        await wait_until(taken_over)
        return
    coordinator = services[0].coordinator
    assert isinstance(coordinator, SharedCoordinator)
    first = await _leader_other_than(coordinator, None)
    await first.crash()
    await _leader_other_than(coordinator, first)


async def _leader_other_than(coordinator: SharedCoordinator, former: SharedCoordinator | None) -> SharedCoordinator:
    async with asyncio.timeout(10), coordinator.bus.changed:
        await coordinator.bus.changed.wait_for(lambda: coordinator.leader(TIMEOUT_LEADERSHIP) not in (None, former))
    leader = coordinator.leader(TIMEOUT_LEADERSHIP)
    assert leader is not None
    return leader


async def test_claim_timeouts_run_on_one_leader_and_on_another_when_it_crashes(
    two_workers: Starter, clock: Clock, database_url: SecretStr | None
) -> None:
    a, b = await two_workers(timeout_poll_seconds=0.01)
    closed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def receive(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["type"] == "session_closed":
            closed.put_nowait(body)
        return httpx.Response(200)

    with respx.mock() as router:
        router.post(HOOK).mock(side_effect=receive)
        async with httpx.AsyncClient() as http:
            a.start(http)
            b.start(http)
            await _crash_the_leader((a, b), database_url)
            session_id = await open_session(a, claimTimeoutSeconds=30)
            await a.intake.link(session_id, "conv_1")
            clock.advance(31)
            async with asyncio.timeout(10):
                body = await closed.get()
    assert (body["sessionId"], body["reason"]) == (session_id, "TIMEOUT")
    assert [e["type"] for e in await events(a, session_id)].count("session_closed") == 1


async def test_a_live_event_on_one_worker_reaches_a_console_on_another(two_workers: Starter) -> None:
    a, b = await two_workers()
    alice = await add_agent(a, "alice")
    relay = asyncio.create_task(a.core.relay.run())
    try:
        await a.core.relay.listening.wait()
        async with a.hub.subscribe(alice.id) as console:
            session_id = await open_session(b)  # the handoff arrives on the other worker
            handoff, offer = await console.queue.get(), await console.queue.get()
            assert (handoff.type, handoff.data["session"]["id"]) == ("handoff", session_id)
            assert (offer.type, offer.data["sessionId"]) == ("offer", session_id)
            assert offer.data["claimDeadline"] == b.clock() + 300  # the countdown of the offer popup
            long_text = "x" * 9000  # past the coordinator's limit: sent by reference, read from the store
            message_id = await b.intake.add_user_message(session_id, "bpmsg_1", "text", {"text": long_text})
            message = await _next(console.queue, "message")
            assert (message.data["id"], message.data["text"]) == (message_id, long_text)
    finally:
        relay.cancel()
    assert console.queue.empty()  # nothing came twice


async def _next(queue: asyncio.Queue[LiveEvent], event_type: str) -> LiveEvent:
    while True:
        event = await queue.get()
        if event.type == event_type:
            return event
