"""What only the PostgreSQL backend promises: several processes share locks, events and leadership, and a lost
connection frees what it held."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from coordination import Coordinator, PostgresDatabase

from .conftest import Clock, Coordinators, backend_pids, terminate, wait_for_a_waiter, wait_until


@pytest.fixture
async def pg(tmp_path: Path, pg_url: SecretStr, clock: Clock) -> Coordinators:
    return Coordinators(tmp_path, pg_url, clock)


@pytest.fixture(autouse=True)
async def _close(pg: Coordinators) -> AsyncIterator[None]:
    yield
    await pg.close_all()


async def test_a_lock_is_exclusive_across_two_workers(pg: Coordinators, pg_url: SecretStr) -> None:
    first, second = await pg.open(), await pg.open()
    order: list[str] = []
    async with first.lock("conv:1"):
        waiting = asyncio.create_task(_hold(second, "conv:1", order))
        await wait_for_a_waiter(pg_url, "lock:conv:1")
        order.append("first out")
    await waiting
    assert order == ["first out", "second in"]


async def test_a_lock_is_freed_when_its_holders_connection_dies(
    pg: Coordinators, pg_url: SecretStr, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = await pg.open(), await pg.open()
    order: list[str] = []
    async with first.lock("conv:1"):
        holders = await backend_pids(pg_url, "lock:conv:1", granted=True)
        waiting = asyncio.create_task(_hold(second, "conv:1", order))
        await wait_for_a_waiter(pg_url, "lock:conv:1")
        await terminate(pg_url, holders)
        await waiting  # the server dropped the dead session's lock: the other worker got it
    assert order == ["second in"]
    assert "dropped before the block ended" in caplog.text


async def test_the_other_worker_takes_over_when_the_leaders_connection_closes(
    pg: Coordinators, pg_url: SecretStr
) -> None:
    first, second = await pg.open(), await pg.open()
    leading: asyncio.Queue[str] = asyncio.Queue()
    stopped: list[str] = []

    def worker(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            leading.put_nowait(name)
            try:
                await asyncio.Event().wait()
            finally:
                stopped.append(name)

        return work

    tasks = [asyncio.create_task(c.lead("timeouts", worker(n))) for n, c in (("a", first), ("b", second))]
    try:
        async with asyncio.timeout(10):
            leader = await leading.get()
        await asyncio.sleep(0.3)  # several polls of the other worker: it must not lead as well
        assert leading.empty()
        await terminate(pg_url, await backend_pids(pg_url, "lead:timeouts", granted=True))
        async with asyncio.timeout(10):
            assert await leading.get() != leader

        async def cancelled() -> bool:
            return stopped == [leader]

        await wait_until(cancelled)  # the lost leader's work was cancelled, and no other
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_worker_whose_seeking_connection_drops_keeps_seeking(pg: Coordinators, pg_url: SecretStr) -> None:
    first, second = await pg.open(), await pg.open()
    leading: asyncio.Queue[str] = asyncio.Queue()

    def worker(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            leading.put_nowait(name)
            await asyncio.Event().wait()

        return work

    tasks = [asyncio.create_task(first.lead("timeouts", worker("first")))]
    try:
        async with asyncio.timeout(10):
            assert await leading.get() == "first"
        tasks.append(asyncio.create_task(second.lead("timeouts", worker("second"))))
        holders = set(await backend_pids(pg_url, "lead:timeouts", granted=True))

        async def second_seeks() -> bool:
            return bool(set(await _seeking_pids(pg_url)) - holders)

        await wait_until(second_seeks)
        dropped = set(await _seeking_pids(pg_url)) - holders
        await terminate(pg_url, list(dropped))

        async def second_seeks_again() -> bool:
            return bool(set(await _seeking_pids(pg_url)) - holders - dropped)

        await wait_until(second_seeks_again)  # it reconnected and polls again
        await terminate(pg_url, list(holders))
        async with asyncio.timeout(10):
            assert await leading.get() == "second"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _seeking_pids(url: SecretStr) -> list[int]:
    connection = await asyncpg.connect(url.get_secret_value())
    try:
        sql = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE 'SELECT pg_try_advisory_lock%'"
        )
        return [row["pid"] for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def test_placeholders_in_quotes_stay_text_and_execute_counts_rows(pg_url: SecretStr) -> None:
    database = await PostgresDatabase.open(pg_url, max_size=2)
    try:
        await database.execute("CREATE TABLE q (a TEXT, b TEXT)")
        sql = "INSERT INTO q VALUES (?, '?'), (E'it\\'s ?' || ?, $$ ? $$) -- ?"
        assert await database.execute(sql, ("x", "y")) == 2
        rows = await database.fetch_all('SELECT a AS "a?", b FROM q WHERE a <> ? ORDER BY a', ("none",))
        assert [(row["a?"], row["b"]) for row in rows] == [("it's ?y", " ? "), ("x", "?")]
        assert await database.execute("UPDATE q SET b = ? WHERE a = ?", ("z", "x")) == 1
        assert await database.execute("CREATE INDEX q_a ON q (a)") == 0
    finally:
        await database.aclose()


async def test_a_read_sees_one_state(pg_url: SecretStr) -> None:
    database = await PostgresDatabase.open(pg_url, max_size=2)
    try:
        await database.execute("CREATE TABLE r (a INTEGER)")
        async with database.read() as connection:
            assert await connection.fetch_all("SELECT a FROM r") == []
            await database.execute("INSERT INTO r VALUES (1)")
            assert await connection.fetch_all("SELECT a FROM r") == []  # REPEATABLE READ: the snapshot holds
        assert [row["a"] for row in await database.fetch_all("SELECT a FROM r")] == [1]
    finally:
        await database.aclose()


async def test_a_message_too_large_for_notify_is_refused(pg: Coordinators, caplog: pytest.LogCaptureFixture) -> None:
    coordinator = await pg.open()
    with pytest.raises(ValueError, match="7000 bytes"):
        await coordinator.publish("c", "é" * 3501)
    assert not any(record.levelno >= logging.ERROR for record in caplog.records)


async def _hold(coordinator: Coordinator, key: str, order: list[str]) -> None:
    async with coordinator.lock(key):
        order.append("second in")


async def test_a_subscriber_keeps_listening_after_its_connection_is_lost(
    pg: Coordinators, pg_url: SecretStr, caplog: pytest.LogCaptureFixture
) -> None:
    publisher, subscriber = await pg.open(), await pg.open()
    async with subscriber.subscribe("inbox:live") as messages:
        lost = await _listening_pids(pg_url)
        await terminate(pg_url, lost)

        async def listening_again() -> bool:
            return bool(set(await _listening_pids(pg_url)) - set(lost))

        await wait_until(listening_again)
        await publisher.publish("inbox:live", "after the reconnect")
        async with asyncio.timeout(10):
            assert await anext(messages) == "after the reconnect"
    assert "LISTEN connection dropped" in caplog.text


async def _listening_pids(url: SecretStr) -> list[int]:
    connection = await asyncpg.connect(url.get_secret_value())
    try:
        sql = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE 'LISTEN %'"
        )
        return [row["pid"] for row in await connection.fetch(sql)]
    finally:
        await connection.close()
