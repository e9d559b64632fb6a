"""The work queue of the coordination port, on both backends (``backend_kind``: sqlite, postgresql)."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from coordination import QueueState, WorkItem, WorkQueue, work_queue_of

from .conftest import Clock, Coordinators

LEASE = 60.0
MAX_ATTEMPTS = 3


async def _queue(coordinators: Coordinators) -> WorkQueue:
    return work_queue_of(await coordinators.open())


async def _take(queue: WorkQueue, owner: str = "w1", limit: int = 10) -> list[WorkItem]:
    return await queue.queue_take(owner, LEASE, limit, MAX_ATTEMPTS)


async def test_a_key_is_put_once_and_a_done_key_stays_a_tombstone(coordinators: Coordinators) -> None:
    queue = await _queue(coordinators)
    assert await queue.queue_put("k1", "t1", "one")
    assert not await queue.queue_put("k1", "t1", "again")
    [item] = await _take(queue)
    assert item == WorkItem("k1", "t1", "one", 1)
    assert not await queue.queue_put("k1", "t1", "while running")
    await queue.queue_done("k1")
    await queue.queue_done("k1")
    assert not await queue.queue_put("k1", "t1", "a redelivery")
    assert await queue.queue_state("k1") is QueueState.DONE
    assert await _take(queue) == []
    assert await queue.queue_state("never-put") is None


async def test_one_order_key_runs_one_item_at_a_time_oldest_first(coordinators: Coordinators) -> None:
    queue = await _queue(coordinators)
    for key, order_key in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B")]:
        await queue.queue_put(key, order_key, key)
    assert [item.key for item in await _take(queue)] == ["a1", "b1"]
    assert await _take(queue, "w2") == []  # a2 and b2 wait for their elders
    await queue.queue_done("a1")
    assert [item.key for item in await _take(queue, "w2")] == ["a2"]


async def test_a_retry_waits_its_delay_and_holds_back_its_order_key(coordinators: Coordinators, clock: Clock) -> None:
    queue = await _queue(coordinators)
    await queue.queue_put("a1", "A", "x")
    await queue.queue_put("a2", "A", "y")
    assert [item.key for item in await _take(queue)] == ["a1"]
    await queue.queue_retry("a1", "w1", 30, "Botpress said 503")
    assert await _take(queue) == []  # a2 never overtakes a1
    clock.advance(31)
    [again] = await _take(queue)
    assert (again.key, again.attempts) == ("a1", 2)


async def test_an_expired_lease_is_taken_again_and_the_late_owner_changes_nothing(
    coordinators: Coordinators, clock: Clock
) -> None:
    queue = await _queue(coordinators)
    await queue.queue_put("k", "t", "x")
    await _take(queue, "crashed")
    clock.advance(LEASE - 1)
    assert await _take(queue, "w2") == []
    clock.advance(2)
    [item] = await _take(queue, "w2")
    assert item.attempts == 2
    await queue.queue_retry("k", "crashed", 0, "late")
    assert not await queue.queue_renew("k", "crashed", LEASE)
    assert await _take(queue, "w3") == []  # w2 still holds it
    assert await queue.queue_renew("k", "w2", LEASE)


async def test_a_renewed_lease_keeps_the_item(coordinators: Coordinators, clock: Clock) -> None:
    queue = await _queue(coordinators)
    await queue.queue_put("k", "t", "x")
    await _take(queue)
    clock.advance(LEASE - 1)
    assert await queue.queue_renew("k", "w1", LEASE)
    clock.advance(LEASE - 1)
    assert await _take(queue, "w2") == []


async def test_failed_items_are_parked_and_free_their_order_key(coordinators: Coordinators) -> None:
    queue = await _queue(coordinators)
    await queue.queue_put("a1", "A", "secret payload")
    await queue.queue_put("a2", "A", "next")
    await _take(queue)
    await queue.queue_fail("a1", "w1", "unreadable")
    assert await queue.queue_state("a1") is QueueState.FAILED
    assert [item.key for item in await _take(queue)] == ["a2"]
    assert not await queue.queue_put("a1", "A", "again")


async def test_an_item_whose_taker_always_dies_is_parked_and_logged_once(
    coordinators: Coordinators, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    queue = await _queue(coordinators)
    await queue.queue_put("poison", "P", "secret payload")
    for _ in range(MAX_ATTEMPTS):
        assert [item.key for item in await _take(queue)] == ["poison"]
        clock.advance(LEASE + 1)
    with caplog.at_level(logging.ERROR, "coordination"):
        assert await _take(queue) == []
        assert await _take(queue) == []
    assert await queue.queue_state("poison") is QueueState.FAILED
    parked = [record.getMessage() for record in caplog.records if "parked" in record.getMessage()]
    assert len(parked) == 1 and "poison" in parked[0] and "secret" not in caplog.text


async def test_purge_drops_old_tombstones_but_never_ready_items(coordinators: Coordinators, clock: Clock) -> None:
    coordinator = await coordinators.open()
    queue = work_queue_of(coordinator)
    await queue.queue_put("done", "t", "x")
    await queue.queue_put("waiting", "u", "y")
    await _take(queue, limit=1)
    await queue.queue_done("done")
    clock.advance(100)
    assert await coordinator.purge(50) >= 1
    assert await queue.queue_state("done") is None
    assert await queue.queue_state("waiting") is QueueState.READY


async def test_concurrent_takers_keep_each_order_key_in_order_and_run_everything_once(
    coordinators: Coordinators,
) -> None:
    """Several takers (on PostgreSQL, each its own pool, as worker processes) drain 3 threads of 20 items."""
    takers = [work_queue_of(await coordinators.open()) for _ in range(3 if coordinators.multi_process else 1)]
    put = {order_key: [f"{order_key}-{n:02d}" for n in range(20)] for order_key in "ABC"}
    for n in range(20):
        for order_key in "ABC":
            await takers[0].queue_put(put[order_key][n], order_key, put[order_key][n])
    ran: list[str] = []
    running: set[str] = set()

    async def drain(queue: WorkQueue, owner: str) -> None:
        while len(ran) < 60:
            for item in await queue.queue_take(owner, LEASE, 2, MAX_ATTEMPTS):
                assert item.order_key not in running, "two items of one order key at once"
                running.add(item.order_key)
                await asyncio.sleep(random.random() / 200)
                ran.append(item.payload)
                running.discard(item.order_key)
                await queue.queue_done(item.key)
            await asyncio.sleep(0)

    async with asyncio.timeout(60):
        await asyncio.gather(*(drain(takers[n % len(takers)], f"w{n}") for n in range(4)))
    assert sorted(ran) == sorted(key for keys in put.values() for key in keys)  # none lost, none twice
    for order_key, keys in put.items():
        assert [payload for payload in ran if payload.startswith(order_key)] == keys


def test_a_coordinator_without_a_queue_is_refused() -> None:
    class NoQueue:
        pass

    with pytest.raises(TypeError, match="keeps no work queue"):
        work_queue_of(NoQueue())  # type: ignore[arg-type]
