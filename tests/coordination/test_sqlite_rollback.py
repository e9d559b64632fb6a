"""A failed rollback never hides why the transaction failed: above all not a cancellation."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from coordination import SqliteDatabase


async def test_a_cancelled_commit_stays_a_cancellation_when_the_rollback_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A shutdown cancels a worker in COMMIT, which aiosqlite's thread finishes anyway: the ROLLBACK that follows
    # fails. Were that failure raised instead, the worker's `except Exception` would swallow the cancellation.
    database = await SqliteDatabase.open(tmp_path / "db.sqlite3")
    real_execute = database._db.execute

    def execute(sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise asyncio.CancelledError
        if sql == "ROLLBACK":
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")
        return real_execute(sql, *args)

    monkeypatch.setattr(database._db, "execute", execute)
    try:
        with pytest.raises(asyncio.CancelledError):
            async with database.transaction() as connection:
                await connection.fetch_one("SELECT 1")
    finally:
        monkeypatch.undo()
        await database.aclose()
