"""The coordination port's contract, run on both backends (``backend_kind``: sqlite, postgresql)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from coordination import Coordinator, JournalEntry, JournalState, Migration

from .conftest import Clock, Coordinators


async def test_the_journal_goes_new_pending_done(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    assert await coordinator.intent("msg:1") == JournalEntry("msg:1", JournalState.NEW, None, 1)
    assert await coordinator.intent("msg:1") == JournalEntry("msg:1", JournalState.PENDING, None, 2)
    await coordinator.done("msg:1", "comment-7")
    assert await coordinator.intent("msg:1") == JournalEntry("msg:1", JournalState.DONE, "comment-7", 2)
    assert (await coordinator.intent("msg:2")).state is JournalState.NEW


async def test_abandon_forgets_a_pending_intent_but_never_a_done_one(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    await coordinator.intent("a")
    await coordinator.abandon("a")
    assert (await coordinator.intent("a")).state is JournalState.NEW
    await coordinator.done("a", "x")
    await coordinator.abandon("a")
    await coordinator.abandon("never-written")
    assert (await coordinator.intent("a")).external_id == "x"


async def test_done_without_an_intent_is_recorded(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    await coordinator.done("b", "y")
    await coordinator.done("b", "y")
    assert (await coordinator.intent("b")).state is JournalState.DONE


async def test_concurrent_intents_give_one_new_and_count_every_attempt(coordinators: Coordinators) -> None:
    workers = await _workers(coordinators)
    entries = await asyncio.gather(*(workers[n % len(workers)].intent("same") for n in range(8)))
    assert [entry.state for entry in entries].count(JournalState.NEW) == 1
    assert sorted(entry.attempts for entry in entries) == list(range(1, 9))


async def test_a_claim_is_won_once_until_it_expires_or_is_released(coordinators: Coordinators, clock: Clock) -> None:
    workers = await _workers(coordinators)
    coordinator = workers[0]
    won = await asyncio.gather(*(workers[n % len(workers)].claim("ticket:1", 30) for n in range(8)))
    assert won.count(True) == 1
    clock.advance(29)
    assert not await coordinator.claim("ticket:1", 30)
    clock.advance(2)
    won = await asyncio.gather(*(workers[n % len(workers)].claim("ticket:1", 30) for n in range(8)))
    assert won.count(True) == 1
    await coordinator.release("ticket:1")
    await coordinator.release("ticket:1")
    assert await coordinator.claim("ticket:1", 30)


async def test_the_memo_keeps_a_value_for_its_ttl(coordinators: Coordinators, clock: Clock) -> None:
    coordinator = await coordinators.open()
    assert await coordinator.memo_get("author:u1") is None
    await coordinator.memo_set("author:u1", "zd-1", 10)
    await coordinator.memo_set("author:u1", "zd-2", 10)
    assert await coordinator.memo_get("author:u1") == "zd-2"
    clock.advance(10)
    assert await coordinator.memo_get("author:u1") is None


async def test_purge_drops_old_entries_and_keeps_recent_ones(coordinators: Coordinators, clock: Clock) -> None:
    coordinator = await coordinators.open()
    await coordinator.done("old", "1")
    await coordinator.memo_set("old", "v", 1)
    await coordinator.claim("old", 1)
    clock.advance(100)
    await coordinator.done("new", "2")
    assert await coordinator.purge(50) == 3
    assert (await coordinator.intent("old")).state is JournalState.NEW
    assert (await coordinator.intent("new")).state is JournalState.DONE


async def test_a_lock_lets_one_holder_in_at_a_time(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    log: list[str] = []

    async def hold(name: str) -> None:
        async with coordinator.lock("conv:1"):
            log.append(f"{name} in")
            await asyncio.sleep(0.05)  # room for another holder to come in, were the lock broken
            log.append(f"{name} out")

    await asyncio.gather(*(hold(str(n)) for n in range(4)))
    assert all(log[i].split()[0] == log[i + 1].split()[0] for i in range(0, len(log), 2)), log
    async with coordinator.lock("conv:1"), coordinator.lock("conv:2"):
        pass  # distinct keys do not wait on each other, and a key is free again after its block


async def test_an_error_in_the_block_releases_the_lock(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    try:
        async with coordinator.lock("k"):
            raise KeyError("inside")
    except KeyError:
        pass
    async with asyncio.timeout(10), coordinator.lock("k"):
        pass


async def test_a_published_message_reaches_every_subscriber_of_its_channel(coordinators: Coordinators) -> None:
    publisher = await coordinators.open()
    subscriber = await coordinators.open() if coordinators.multi_process else publisher
    long_name = "console:" + "x" * 100
    async with (
        subscriber.subscribe(long_name) as first,
        subscriber.subscribe(long_name) as second,
        subscriber.subscribe(long_name + "y") as other,
    ):
        await publisher.publish(long_name + "y", "for the other")
        await publisher.publish(long_name, "handoff 1")
        assert await _next(first) == "handoff 1" and await _next(second) == "handoff 1"
        assert await _next(other) == "for the other"


async def test_lead_runs_the_work(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    ran: list[str] = []

    async def work() -> None:
        ran.append("led")

    async with asyncio.timeout(10):
        await coordinator.lead("claim-timeouts", work)
    assert ran == ["led"]


async def test_two_concurrent_migrations_apply_each_step_once(coordinators: Coordinators) -> None:
    first, second = await coordinators.open_database(), await coordinators.open_database()
    steps = [
        Migration(1, "t", sqlite="CREATE TABLE t (a INTEGER)", postgresql="CREATE TABLE t (a INTEGER)"),
        Migration(2, "u", sqlite="INSERT INTO t VALUES (1)", postgresql="INSERT INTO t VALUES (1)"),
    ]
    applied = await asyncio.gather(
        first.migrate("demo", steps), second.migrate("demo", steps), first.migrate("demo", steps)
    )
    # Each step once, in order, whoever applied it (SQLite steps are transactions of their own, so two callers may
    # share the work; PostgreSQL applies a component's steps in one transaction).
    assert sorted(version for versions in applied for version in versions) == [1, 2]
    assert [row["a"] for row in await first.fetch_all("SELECT a FROM t")] == [1]
    assert await second.migrate("demo", [*steps, Migration(3, "v", "DELETE FROM t", "DELETE FROM t")]) == [3]


async def _workers(coordinators: Coordinators) -> list[Coordinator]:
    """Two coordinators with pools of their own where the backend allows several processes, else the one."""
    first = await coordinators.open()
    return [first, await coordinators.open()] if coordinators.multi_process else [first]


async def _next(messages: AsyncIterator[str]) -> str:
    async with asyncio.timeout(10):
        return await anext(messages)
