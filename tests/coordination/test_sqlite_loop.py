"""The coordinator's SQLite on the event loop: transactions, checkpoints in a thread, none on the loop."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coordination import EmbeddedCoordinator, _sqlite_loop
from coordination._sqlite_loop import LoopSqliteDatabase

from .conftest import wait_until


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[LoopSqliteDatabase]:
    opened = await LoopSqliteDatabase.open(tmp_path / "db.sqlite3", checkpoint_commits=5)
    await opened.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    yield opened
    await opened.aclose()


async def test_a_failed_block_is_rolled_back(database: LoopSqliteDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as connection:
            await connection.execute("INSERT INTO t (n) VALUES (1)")
            raise RuntimeError("the caller failed")
    assert await database.fetch_all("SELECT n FROM t") == []


async def test_a_failed_commit_is_rolled_back_and_the_next_transaction_works(database: LoopSqliteDatabase) -> None:
    await database.execute("CREATE TABLE child (parent INTEGER REFERENCES t (n) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError):
        async with database.transaction() as connection:
            await connection.execute("INSERT INTO child (parent) VALUES (7)")  # fails at COMMIT: no such parent
    await database.execute("INSERT INTO t (n) VALUES (2)")
    assert [row["n"] for row in await database.fetch_all("SELECT n FROM t")] == [2]


async def test_automatic_checkpoints_are_off_on_the_loop(database: LoopSqliteDatabase) -> None:
    autocheckpoint = await database.fetch_one("PRAGMA wal_autocheckpoint")
    journal_mode = await database.fetch_one("PRAGMA journal_mode")
    assert autocheckpoint is not None and autocheckpoint["wal_autocheckpoint"] == 0
    assert journal_mode is not None and journal_mode["journal_mode"] == "wal"


async def test_commits_are_checkpointed_in_a_thread(database: LoopSqliteDatabase, tmp_path: Path) -> None:
    for n in range(10):
        await database.execute("INSERT INTO t (n) VALUES (?)", (n,))

    async def all_in_the_file() -> bool:
        # Read the database file itself, without the WAL (immutable ignores it): only checkpoints put rows there.
        return rows_in_the_file(tmp_path / "db.sqlite3") == 10

    await wait_until(all_in_the_file)  # by the passes the commits started, then the one a second after them
    assert database.checkpointer.passes >= 1


def rows_in_the_file(path: Path) -> int:
    """The rows of ``t`` in the database file itself (0 before a checkpoint brought the table there)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as reader:
        try:
            return int(reader.execute("SELECT count(*) FROM t").fetchone()[0])
        except sqlite3.OperationalError:  # no such table: not checkpointed yet
            return 0


async def test_the_embedded_coordinator_runs_on_the_loop_database(tmp_path: Path) -> None:
    coordinator = await EmbeddedCoordinator.open(tmp_path)
    try:
        assert isinstance(coordinator.store.database, LoopSqliteDatabase)
    finally:
        await coordinator.aclose()


async def test_a_write_waits_for_a_complete_checkpoint_when_they_fall_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No pass is due by commits, and the loop never yields between these writes: without settling, the WAL would
    # grow without end. Every SETTLE_COMMITS commits, a write waits for a complete checkpoint and the WAL restarts.
    monkeypatch.setattr(_sqlite_loop, "SETTLE_COMMITS", 20)
    database = await LoopSqliteDatabase.open(tmp_path / "db.sqlite3", checkpoint_commits=10**9)
    try:
        await database.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        for n in range(200):
            await database.execute("INSERT INTO t (n) VALUES (?)", (n,))
        assert database.checkpointer.passes >= 9
        unsettled_wal_bytes = 200 * 4096  # at least a page per commit, had the WAL never restarted
        assert (tmp_path / "db.sqlite3-wal").stat().st_size < unsettled_wal_bytes / 2
    finally:
        await database.aclose()
