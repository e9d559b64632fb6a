"""The PostgreSQL coordinator: every worker on every host shares its locks, claims, journal, memo and events."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from ._local import KeyedLocks
from ._pg_locks import DROPPED, SharedLockSession
from ._pg_session import CONNECTION_ERRORS, MAX_PAYLOAD_BYTES, Leadership, Listener, channel_name
from ._postgres import PostgresDatabase, advisory_key
from ._store import SqlStore, StoreBacked

if TYPE_CHECKING:
    from ._postgres import PgConnection

log = logging.getLogger(__name__)


class PostgresCoordinator(StoreBacked):
    """Locks are session advisory locks, claims and the journal are rows, events are ``NOTIFY``.

    A free lock is taken on one session the process shares; a contended one is waited for on a connection of the
    lock pool (``lock_pool_size``), so lock holders that run queries never wait for a connection other holders keep,
    and nested locks never exhaust the pool (:mod:`._pg_locks`). Within one process, holders of one key queue in
    memory first.
    """

    multi_process = True

    def __init__(
        self,
        database: PostgresDatabase,
        lock_pool: asyncpg.Pool[asyncpg.Record],
        *,
        clock: Callable[[], float] = time.time,
        lead_poll_seconds: float = 1.0,
    ) -> None:
        self.database = database
        self.store = SqlStore(database, clock)
        self._lock_pool = lock_pool
        self._local_locks = KeyedLocks()
        self._shared = SharedLockSession(database)
        self._listener = Listener(database, retry_seconds=lead_poll_seconds)
        self.leadership = Leadership(database, poll_seconds=lead_poll_seconds)

    @classmethod
    async def open(
        cls,
        database: PostgresDatabase,
        *,
        lock_pool_size: int = 16,
        clock: Callable[[], float] = time.time,
        lead_poll_seconds: float = 1.0,
    ) -> PostgresCoordinator:
        """Create the coordination tables if needed (safe with several workers starting at once) and connect."""
        store = SqlStore(database, clock)
        await store.migrate()
        lock_pool = await asyncpg.create_pool(
            database.url.get_secret_value(),
            min_size=0,
            max_size=lock_pool_size,
            server_settings={"application_name": "hitl-bridge locks"},
        )
        return cls(database, lock_pool, clock=clock, lead_poll_seconds=lead_poll_seconds)

    @asynccontextmanager
    async def _locked(self, key: str) -> AsyncIterator[None]:
        advisory = advisory_key(f"lock:{key}")
        async with self._local_locks.hold(key):
            shared = await self._shared.try_lock(advisory)
            if shared is not None:
                try:
                    yield
                finally:
                    await self._shared.unlock(shared, advisory, key)
                return
            async with self._lock_pool.acquire() as connection:
                await connection.execute("SELECT pg_advisory_lock($1)", advisory)
                try:
                    yield
                finally:
                    await _unlock(connection, advisory, key)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locked(key)

    async def publish(self, channel: str, message: str) -> None:
        if len(message.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"a published message holds at most {MAX_PAYLOAD_BYTES} bytes")
        await self.database.execute("SELECT pg_notify(?, ?)", (channel_name(channel), message))

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        return self._listener.subscribe(channel)

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        await self.leadership.lead(name, work)

    async def aclose(self) -> None:
        await self._listener.aclose()
        await self._shared.aclose()
        await self._lock_pool.close()


async def _unlock(connection: PgConnection, advisory: int, key: str) -> None:
    try:
        await connection.execute("SELECT pg_advisory_unlock($1)", advisory)
    except (*CONNECTION_ERRORS, asyncpg.InternalClientError):
        # The server freed the lock with the session, maybe before the block ended: say so, never hide the block's
        # own outcome behind this. A connection in an unknown state is never reused: the pool replaces it.
        log.warning(DROPPED, key)
        with contextlib.suppress(asyncpg.InterfaceError):  # the pool may have taken the dead connection back already
            connection.terminate()
