"""Coordinators of either backend, on a clock the test moves, closed after the test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from coordination import (
    Coordinator,
    Database,
    EmbeddedCoordinator,
    PostgresCoordinator,
    PostgresDatabase,
    SqliteDatabase,
)
from coordination._postgres import advisory_key

LEAD_POLL_SECONDS = 0.05


class Clock:
    """Wall-clock seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Coordinators:
    """Opens coordinators on one backend: the embedded one in ``data_dir``, or PostgreSQL at ``url``.

    Each PostgreSQL coordinator has pools of its own, as another worker process would.
    """

    def __init__(self, data_dir: Path, url: SecretStr | None, clock: Clock) -> None:
        self.data_dir = data_dir
        self.url = url
        self.clock = clock
        self._opened: list[tuple[Coordinator, PostgresDatabase | None]] = []
        self._databases: list[Database] = []

    @property
    def multi_process(self) -> bool:
        return self.url is not None

    async def open(self) -> Coordinator:
        if self.url is None:
            embedded = await EmbeddedCoordinator.open(self.data_dir, clock=self.clock)
            self._opened.append((embedded, None))
            return embedded
        database = await PostgresDatabase.open(self.url, max_size=4)
        coordinator = await PostgresCoordinator.open(
            database, lock_pool_size=4, clock=self.clock, lead_poll_seconds=LEAD_POLL_SECONDS
        )
        self._opened.append((coordinator, database))
        return coordinator

    async def open_database(self) -> Database:
        """Another connection (pool) to a database of this backend: a SQLite file in ``data_dir``, or PostgreSQL."""
        database: Database
        if self.url is None:
            database = await SqliteDatabase.open(self.data_dir / "demo.sqlite3")
        else:
            database = await PostgresDatabase.open(self.url, max_size=2)
        self._databases.append(database)
        return database

    async def close(self, coordinator: Coordinator) -> None:
        for opened, database in list(self._opened):
            if opened is coordinator:
                self._opened.remove((opened, database))
                await opened.aclose()
                if database is not None:
                    await database.aclose()

    async def close_all(self) -> None:
        for coordinator, _ in list(self._opened):
            await self.close(coordinator)
        for database in self._databases:
            await database.aclose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def coordinators(tmp_path: Path, database_url: SecretStr | None, clock: Clock) -> AsyncIterator[Coordinators]:
    opened = Coordinators(tmp_path / "data", database_url, clock)
    yield opened
    await opened.close_all()


async def backend_pids(url: SecretStr, name: str, *, granted: bool) -> list[int]:
    """The server processes holding (or waiting for) the advisory lock ``name`` (as ``advisory_key`` hashes it)."""
    key = advisory_key(name) & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks shows the two halves as unsigned oids
    sql = (
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid "
        "AND objid = $2::bigint::oid AND objsubid = 1 AND granted = $3 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    connection = await asyncpg.connect(url.get_secret_value())
    try:
        return [row["pid"] for row in await connection.fetch(sql, key >> 32, key & 0xFFFF_FFFF, granted)]
    finally:
        await connection.close()


async def wait_until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Until ``condition()`` holds (10 s at most). Polled: what it waits for happens in the server, which tells
    nobody."""
    async with asyncio.timeout(10):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)


async def wait_for_a_waiter(url: SecretStr, name: str) -> None:
    """Until some session waits for the advisory lock ``name``."""

    async def someone_waits() -> bool:
        return bool(await backend_pids(url, name, granted=False))

    await wait_until(someone_waits)


async def terminate(url: SecretStr, pids: list[int]) -> None:
    """Kill those server processes, as a dropped network or a crashed worker would end their sessions."""
    connection = await asyncpg.connect(url.get_secret_value())
    try:
        for pid in pids:
            await connection.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()
