"""The inbox's SQLite store: one connection, versioned migrations, serialised transactions."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from .migrations import MIGRATIONS

DATABASE_NAME = "inbox.sqlite3"
Row = aiosqlite.Row
Params = Iterable[Any] | Mapping[str, Any]


def new_id(prefix: str) -> str:
    """A random id that says what it names, e.g. ``ses_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def dumps(value: Any) -> str:
    """JSON for a column."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(value: str | None) -> Any:
    """A JSON column's value (``None`` stays ``None``)."""
    return None if value is None else json.loads(value)


class Store:
    """An open inbox database.

    Every access goes through :meth:`transaction` or :meth:`read`, which share one lock, so a
    reader never sees half of a transaction and writes never interleave.
    """

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path

    @classmethod
    async def open(cls, data_dir: Path) -> Store:
        """Open (creating if needed) the database in ``data_dir`` and bring its schema up to date."""
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        path = data_dir / DATABASE_NAME
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db, path)
        await store.migrate()
        return store

    async def close(self) -> None:
        """Close the connection (closing twice is harmless)."""
        async with self._lock:
            if not self._closed:
                self._closed = True
                await self._db.close()

    async def migrate(self) -> list[int]:
        """Apply the migrations not applied yet, each in its own transaction; return their versions."""
        async with self.transaction() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at REAL)"
            )
        applied = {row["version"] for row in await self.fetch_all("SELECT version FROM schema_migrations")}
        done: list[int] = []
        for version, name, script in MIGRATIONS:
            if version not in applied:
                await self._apply(version, name, script)
                done.append(version)
        return done

    async def _apply(self, version: int, name: str, script: str) -> None:
        async with self.transaction() as db:
            for statement in (part.strip() for part in script.split(";")):
                if statement:
                    await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error.

        A failed ``COMMIT`` (``SQLITE_BUSY``, a deferred constraint, disk I/O) is rolled back too before it is
        raised: SQLite may keep the transaction open after such a failure, and the next ``BEGIN`` on this
        one shared connection would then fail forever.
        """
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        # Some failures (SQLITE_FULL, SQLITE_IOERR...) have rolled the transaction back already; a second
        # ROLLBACK would raise "no transaction is active" and hide the original error.
        if self._db.in_transaction:
            await self._db.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the connection for a few reads that must see one state."""
        async with self._lock:
            yield self._db

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of one query."""
        async with self.read() as db:
            return await all_rows(db, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one query, or ``None``."""
        async with self.read() as db:
            return await one_row(db, sql, params)


async def all_rows(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[Row]:
    """All rows of a query on a connection already held."""
    async with db.execute(sql, _bind(params)) as cursor:
        return list(await cursor.fetchall())


async def one_row(db: aiosqlite.Connection, sql: str, params: Params = ()) -> Row | None:
    """The first row of a query on a connection already held."""
    async with db.execute(sql, _bind(params)) as cursor:
        row: Row | None = await cursor.fetchone()
        return row


def _bind(params: Params) -> Any:
    return params if isinstance(params, Mapping) else tuple(params)
