"""The embedded database: one SQLite file in WAL mode, one connection, serialised transactions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

from ._database import Connection, Database, Migration, Params, Row, statements

log = logging.getLogger(__name__)


class _SqliteConnection(Connection):
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            # sqlite3.Row reads by column name as a Mapping does, though typeshed does not say so.
            return cast(list[Row], list(await cursor.fetchall()))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self._db.execute(sql, tuple(params)) as cursor:
            return cast(Row | None, await cursor.fetchone())


class LockedSqlite(Database):
    """What both SQLite databases share: one connection behind an ``asyncio.Lock``, reads under it, and the
    migrations of :func:`migrate_sqlite`."""

    _connection: Connection
    _lock: asyncio.Lock

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._lock:
            yield self._connection

    async def migrate(self, component: str, migrations: Iterable[Migration]) -> list[int]:
        return await migrate_sqlite(self, component, migrations)


class SqliteDatabase(LockedSqlite):
    """An open SQLite database (WAL, foreign keys on).

    Every access goes through :meth:`transaction` or :meth:`read`, which share one lock, so a reader never sees
    half of a transaction and writes never interleave. WAL keeps a committed transaction through a kill -9.
    """

    dialect = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self._connection = _SqliteConnection(db)
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating it and its folder if needed) the database file at ``path``."""
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL"):
            await db.execute(f"PRAGMA {pragma}")
        return cls(db, path)

    async def aclose(self) -> None:
        async with self._lock:
            if not self._closed:
                self._closed = True
                await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error.

        A failed ``COMMIT`` (``SQLITE_BUSY``, a deferred constraint, disk I/O) is rolled back too before it is
        raised: SQLite may keep the transaction open after such a failure, and the next ``BEGIN`` on this one
        shared connection would then fail forever.
        """
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                await self._db.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        # Some failures (SQLITE_FULL, SQLITE_IOERR...) have rolled the transaction back already, and a cancelled
        # COMMIT may still run, or have run, in aiosqlite's thread: a ROLLBACK then fails ("no transaction is
        # active"). That failure must never replace the original error, least of all a cancellation, which a
        # worker's `except Exception` would then swallow: the worker would never stop and its app never shut down.
        try:
            if self._db.in_transaction:
                await self._db.execute("ROLLBACK")
        except Exception as exc:  # sqlite3.Error, or ValueError once the connection is closed
            log.warning("sqlite: the rollback after a failed transaction failed too (%s)", type(exc).__name__)


async def migrate_sqlite(database: Database, component: str, migrations: Iterable[Migration]) -> list[int]:
    """Apply the missing steps of ``component`` to a SQLite ``database``, each in its own transaction.

    One process owns an embedded database, and ``BEGIN IMMEDIATE`` serialises the steps anyway. The table is not
    the inbox's older ``schema_migrations`` (one component, no name column), which may exist beside it.
    """
    async with database.transaction() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT NOT NULL, version INTEGER NOT NULL, "
            "name TEXT NOT NULL, applied_at REAL NOT NULL, PRIMARY KEY (component, version))"
        )
    return [migration.version for migration in migrations if await _apply(database, component, migration)]


async def _apply(database: Database, component: str, migration: Migration) -> bool:
    # Checked inside the step's transaction, so two migrate() calls at once apply each step once.
    async with database.transaction() as connection:
        sql = "SELECT 1 FROM schema_versions WHERE component = ? AND version = ?"
        if await connection.fetch_one(sql, (component, migration.version)) is not None:
            return False
        for statement in statements(migration.sqlite):
            await connection.execute(statement)
        await connection.execute(
            "INSERT INTO schema_versions (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
            (component, migration.version, migration.name, time.time()),
        )
    return True
