"""The PostgreSQL database: an asyncpg pool, ``?`` placeholders, migrations that concurrent starts cannot race."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import asyncpg
from pydantic import SecretStr

from ._database import Connection, Database, Migration, Params, Row
from ._placeholders import to_numbered

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    from asyncpg.pool import PoolConnectionProxy

    PgConnection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    """A dedicated connection or one borrowed from the pool."""

APPLICATION_NAME = "hitl-bridge"
_SCHEMA_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT NOT NULL, version INTEGER NOT NULL, "
    "name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (component, version))"
)


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (a hash: distinct names collide once in 2**64)."""
    digest = hashlib.blake2b(f"hitl-bridge:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def row_count(status: str) -> int:
    """The rows a statement changed, from its status string (``INSERT 0 3``, ``UPDATE 2``, ``CREATE TABLE``)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PostgresConnection(Connection):
    def __init__(self, connection: PgConnection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        return row_count(await self._connection.execute(to_numbered(sql), *params))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # asyncpg's Record reads by column name like a Mapping (though iterating it gives values, not keys).
        return cast(list[Row], await self._connection.fetch(to_numbered(sql), *params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return cast(Row | None, await self._connection.fetchrow(to_numbered(sql), *params))


class PostgresDatabase(Database):
    """An open PostgreSQL database on an asyncpg pool, shared by every component of every worker.

    Transactions are ``READ COMMITTED`` (PostgreSQL's default): write with single atomic statements
    (``INSERT ... ON CONFLICT``, ``UPDATE ... WHERE`` the expected state, ``FOR UPDATE SKIP LOCKED``), or take a lock.
    :meth:`read` runs in one ``REPEATABLE READ`` read-only transaction, so its reads see one state.
    """

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], url: SecretStr) -> None:
        self.pool = pool
        self.url = url
        self._closed = False

    @classmethod
    async def open(cls, url: SecretStr, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        """Connect a pool to ``url`` (a ``postgresql://`` URL; its password is never logged)."""
        pool = await asyncpg.create_pool(url.get_secret_value(), min_size=min_size, max_size=max_size, **_options())
        return cls(pool, url)

    async def connect(self) -> asyncpg.Connection[asyncpg.Record]:
        """A dedicated connection outside the pool (for LISTEN, or a lock tied to its session); close it yourself."""
        return await asyncpg.connect(self.url.get_secret_value(), **_options())

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield _PostgresConnection(connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with (
            self.pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield _PostgresConnection(connection)

    async def migrate(self, component: str, migrations: Iterable[Migration]) -> list[int]:
        """Apply the missing steps, all in one transaction under the component's advisory lock.

        A second process starting at once waits on the lock, then finds the steps recorded and applies none. The
        ``schema_versions`` table itself is created under a lock of its own (``CREATE TABLE IF NOT EXISTS`` alone
        races: two sessions can both decide to create it). A failing step rolls back every step of the call.
        """
        async with self.pool.acquire() as connection:
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("migrate"))
                await connection.execute(_SCHEMA_VERSIONS)
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", advisory_key(f"migrate:{component}"))
                return await _apply_missing(connection, component, migrations)


async def _apply_missing(connection: PgConnection, component: str, migrations: Iterable[Migration]) -> list[int]:
    rows = await connection.fetch("SELECT version FROM schema_versions WHERE component = $1", component)
    applied = {row["version"] for row in rows}
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        # Without parameters asyncpg sends the whole script at once, so a step may hold functions with ``;`` in them.
        await connection.execute(migration.postgresql)
        await connection.execute(
            "INSERT INTO schema_versions (component, version, name, applied_at) VALUES ($1, $2, $3, $4)",
            component,
            migration.version,
            migration.name,
            time.time(),
        )
        done.append(migration.version)
    return done


def _options() -> dict[str, Any]:
    return {"server_settings": {"application_name": APPLICATION_NAME}}
