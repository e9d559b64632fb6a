"""The work queue's worker on its own: retries, parking, leases, shutdown (a real embedded queue, a test clock)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coordination import EmbeddedCoordinator, QueueState, WorkItem, WorkQueue, work_queue_of
from integration.hitl.deferred import WAKE_CHANNEL, decode, encode
from integration.hitl.deferred_worker import QueueWorker, UnworkableError, WorkerPolicy, webhook_handler
from integration.services import Services
from tests.factories import runtime_headers
from tests.fakes import FakeHarness, fake_webhook

POLICY = WorkerPolicy(lease_seconds=60, max_attempts=3, poll_seconds=0.01, shutdown_grace_seconds=0)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def coordinator(tmp_path: Path, clock: Clock) -> AsyncIterator[EmbeddedCoordinator]:
    opened = await EmbeddedCoordinator.open(tmp_path, clock=clock)
    yield opened
    await opened.aclose()


class Script:
    """A handler that fails ``failures`` times with ``error``, then succeeds; it records each call."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RuntimeError("Botpress said 503")
        self.calls: list[str] = []

    async def __call__(self, item: WorkItem) -> None:
        self.calls.append(item.key)
        if len(self.calls) <= self.failures:
            raise self.error


async def _take_and_run(worker: QueueWorker, queue: WorkQueue) -> None:
    [item] = await queue.queue_take(worker.owner, POLICY.lease_seconds, 1, POLICY.max_attempts)
    await worker.run_item(item)


async def test_a_worker_names_its_process_in_the_leases_it_holds(coordinator: EmbeddedCoordinator) -> None:
    # An operator reading the queue's table (and the crash tests) tell by the owner which process holds an item.
    first, second = (QueueWorker(coordinator, Script(), POLICY) for _ in range(2))
    assert first.owner.startswith(f"worker-{os.getpid()}-") and first.owner != second.owner


async def test_a_failure_is_retried_after_a_growing_delay_then_done(
    coordinator: EmbeddedCoordinator, clock: Clock
) -> None:
    queue = work_queue_of(coordinator)
    script = Script(failures=2)
    worker = QueueWorker(coordinator, script, POLICY)
    await queue.queue_put("k", "t", "x")
    await _take_and_run(worker, queue)
    clock.now += POLICY.delay(1) - 1
    assert await queue.queue_take("w", 60, 1, 3) == []  # still waiting its delay
    clock.now += 1
    await _take_and_run(worker, queue)
    clock.now += POLICY.delay(2)
    await _take_and_run(worker, queue)
    assert script.calls == ["k", "k", "k"] and await queue.queue_state("k") is QueueState.DONE
    assert POLICY.delay(1) < POLICY.delay(2) < POLICY.delay(3)


async def test_after_the_last_attempt_the_item_is_parked_and_logged_once_without_its_payload(
    coordinator: EmbeddedCoordinator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = work_queue_of(coordinator)
    worker = QueueWorker(coordinator, Script(failures=99), POLICY)
    await queue.queue_put("k", "t", "the secret payload")
    with caplog.at_level(logging.WARNING):
        for attempt in range(1, POLICY.max_attempts + 1):
            await _take_and_run(worker, queue)
            clock.now += POLICY.delay(attempt)
    assert await queue.queue_state("k") is QueueState.FAILED
    assert await queue.queue_take("w", 60, 1, 3) == []
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "parked k after 3 attempts" in errors[0].getMessage()
    assert "secret" not in caplog.text


async def test_an_unworkable_item_is_parked_at_once(coordinator: EmbeddedCoordinator) -> None:
    queue = work_queue_of(coordinator)
    worker = QueueWorker(coordinator, Script(failures=1, error=UnworkableError("unreadable")), POLICY)
    await queue.queue_put("k", "t", "x")
    await _take_and_run(worker, queue)
    assert await queue.queue_state("k") is QueueState.FAILED


async def test_the_worker_takes_a_put_and_a_shutdown_gives_the_running_item_back(
    coordinator: EmbeddedCoordinator,
) -> None:
    queue = work_queue_of(coordinator)
    started, never = asyncio.Event(), asyncio.Event()

    async def stuck(item: WorkItem) -> None:
        started.set()
        await never.wait()

    worker = QueueWorker(coordinator, stuck, POLICY)
    running = asyncio.create_task(worker.run())
    await queue.queue_put("k", "t", "x")
    async with asyncio.timeout(10):
        await started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    [item] = await queue.queue_take("next", 60, 1, 3)  # no lease to wait out
    assert item.key == "k"


async def test_a_payload_keeps_the_context_and_the_request(tmp_path: Path) -> None:
    from integration.context import context_from_headers

    ctx = context_from_headers(runtime_headers("webhook_received", {"adapter": "fake", "secret": "s3cret"}))
    request = fake_webhook(FakeHarness.secret, {"kind": "close", "session": "t-1"}, delivery="d-1")
    job = decode(encode(ctx, request))
    assert (job.ctx, job.request) == (ctx, request)
    with pytest.raises(ValueError, match="version"):
        decode('{"v": 0}')


async def test_a_damaged_payload_is_unworkable() -> None:
    handle = webhook_handler(Services.__new__(Services))  # never reached: the payload is read first
    with pytest.raises(UnworkableError, match="cannot rebuild"):
        await handle(WorkItem("k", "t", '{"v": 1, "context": {}}', 1))


async def test_a_put_announced_on_the_wake_channel_is_taken_without_waiting_for_a_poll(
    coordinator: EmbeddedCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = work_queue_of(coordinator)
    handled, idle = asyncio.Event(), asyncio.Event()
    take = coordinator.queue_take

    async def spy(owner: str, lease_seconds: float, limit: int, max_attempts: int) -> list[WorkItem]:
        items = await take(owner, lease_seconds, limit, max_attempts)
        idle.set()
        return items

    async def handle(item: WorkItem) -> None:
        handled.set()

    monkeypatch.setattr(coordinator, "queue_take", spy)
    worker = QueueWorker(coordinator, handle, WorkerPolicy(poll_seconds=3600))
    running = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(10):
            await idle.wait()  # it found the queue empty: only a notification can wake it within the hour
            await queue.queue_put("k", "t", "x")
            while not handled.is_set():  # repeated, as the worker may not be listening yet
                await coordinator.publish(WAKE_CHANNEL, "put")
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_a_running_item_has_its_lease_renewed(
    coordinator: EmbeddedCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = work_queue_of(coordinator)
    renewed = asyncio.Event()
    renew = coordinator.queue_renew

    async def spy(key: str, owner: str, lease_seconds: float) -> bool:
        renewed.set()
        return await renew(key, owner, lease_seconds)

    monkeypatch.setattr(coordinator, "queue_renew", spy)

    async def long_item(item: WorkItem) -> None:
        async with asyncio.timeout(10):
            await renewed.wait()  # an item that runs until its lease was renewed once

    worker = QueueWorker(coordinator, long_item, WorkerPolicy(lease_seconds=0.03))
    await queue.queue_put("k", "t", "x")
    await _take_and_run(worker, queue)
    assert await queue.queue_state("k") is QueueState.DONE
