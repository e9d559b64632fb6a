"""A PostgreSQL :class:`coordination.Database` for the inbox's tests, each test in a schema of its own.

It implements the port as its contract says (``?`` placeholders, row counts, migrations under one lock) over asyncpg,
so the inbox's SQL runs on a real PostgreSQL before the bridge's own backend lands; the fixtures switch to that
backend once it does. The server comes from ``HITL_BRIDGE_TEST_DATABASE_URL``, read when this module is imported
(the tests' clean environment hides ``HITL_BRIDGE_*`` variables from the tests themselves).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest

from coordination import Connection, Database, Migration, Params, Row
from coordination._database import statements

TEST_DATABASE_URL = os.environ.get("HITL_BRIDGE_TEST_DATABASE_URL")
_PLACEHOLDER = re.compile(r"'[^']*'|\?")


def require_url() -> str:
    """The test server's URL; the test is skipped without one (a failure in CI, which must run them)."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    if os.environ.get("CI") == "true":
        pytest.fail("HITL_BRIDGE_TEST_DATABASE_URL is not set: CI runs the PostgreSQL tests")
    pytest.skip("HITL_BRIDGE_TEST_DATABASE_URL is not set")


def _numbered(sql: str) -> str:
    """``?`` placeholders as ``$1, $2...``, leaving string literals alone."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda m: m.group(0) if m.group(0) != "?" else f"${next(counter)}", sql)


def _row_count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PgConnection(Connection):
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        return _row_count(await self._connection.execute(_numbered(sql), *params))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._connection.fetch(_numbered(sql), *params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await self._connection.fetchrow(_numbered(sql), *params)
        return row


class SchemaDatabase(Database):
    """A pool whose connections all work in one schema: what one worker process would hold."""

    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._closed = False

    @classmethod
    async def open(cls, url: str, schema: str) -> SchemaDatabase:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=4, server_settings={"search_path": schema})
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield _PgConnection(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as connection:
            yield _PgConnection(connection)

    async def migrate(self, component: str, migrations: Iterable[Migration]) -> list[int]:
        async with self.transaction() as db:  # one transaction under one lock: two processes starting never race
            await db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"schema:{component}",))
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT NOT NULL, version INTEGER NOT NULL, "
                "name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (component, version))"
            )
            rows = await db.fetch_all("SELECT version FROM schema_versions WHERE component = ?", (component,))
            applied, done = {row["version"] for row in rows}, []
            for migration in migrations:
                if migration.version not in applied:
                    for statement in statements(migration.postgresql):
                        await db.execute(statement)
                    await db.execute(
                        "INSERT INTO schema_versions VALUES (?, ?, ?, ?)",
                        (component, migration.version, migration.name, time.time()),
                    )
                    done.append(migration.version)
        return done

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A new, empty schema on the test server for the block (dropped at the end)."""
    url = require_url()
    schema = f"inbox_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield schema
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()
