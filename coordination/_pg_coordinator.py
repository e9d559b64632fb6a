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
from ._pg_session import CONNECTION_ERRORS, MAX_PAYLOAD_BYTES, Leadership, Listener, channel_name
from ._port import Coordinator, JournalEntry
from ._postgres import PostgresDatabase, advisory_key
from ._store import SqlStore

if TYPE_CHECKING:
    from ._postgres import PgConnection

log = logging.getLogger(__name__)


class PostgresCoordinator(Coordinator):
    """Locks are session advisory locks, claims and the journal are rows, events are ``NOTIFY``.

    A lock holds a connection of its own pool (``lock_pool_size``) for its block, so a lock holder that runs queries
    never waits for a connection that other lock holders keep; within one process, holders of one key queue in memory
    first, so a busy key holds one connection, not one per waiter.
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
        async with self._local_locks.hold(key), self._lock_pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", advisory)
            try:
                yield
            finally:
                await _unlock(connection, advisory, key)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locked(key)

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        return await self.store.claim(key, ttl_seconds)

    async def release(self, key: str) -> None:
        await self.store.release(key)

    async def intent(self, key: str) -> JournalEntry:
        return await self.store.intent(key)

    async def done(self, key: str, external_id: str) -> None:
        await self.store.done(key, external_id)

    async def abandon(self, key: str) -> None:
        await self.store.abandon(key)

    async def memo_get(self, key: str) -> str | None:
        return await self.store.memo_get(key)

    async def memo_set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self.store.memo_set(key, value, ttl_seconds)

    async def publish(self, channel: str, message: str) -> None:
        if len(message.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"a published message holds at most {MAX_PAYLOAD_BYTES} bytes")
        await self.database.execute("SELECT pg_notify(?, ?)", (channel_name(channel), message))

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        return self._listener.subscribe(channel)

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        await self.leadership.lead(name, work)

    async def purge(self, older_than_seconds: float) -> int:
        return await self.store.purge(older_than_seconds)

    async def aclose(self) -> None:
        await self._listener.aclose()
        await self._lock_pool.close()


async def _unlock(connection: PgConnection, advisory: int, key: str) -> None:
    try:
        await connection.execute("SELECT pg_advisory_unlock($1)", advisory)
    except (*CONNECTION_ERRORS, asyncpg.InternalClientError):
        # The server freed the lock with the session, maybe before the block ended: say so, never hide the block's
        # own outcome behind this. A connection in an unknown state is never reused: the pool replaces it.
        log.warning("the connection holding lock %s dropped before the block ended", key)
        with contextlib.suppress(asyncpg.InterfaceError):  # the pool may have taken the dead connection back already
            connection.terminate()
