"""Where a PostgreSQL lock is held: on one shared session when it is free, on a session of its own when contended.

A lock held on a pooled connection for its whole block bounds how many locks a process can hold at once by the
pool's size; a lock taken inside another (the core's message lock around an adapter's ticket lock) then waits for
a connection the outer holders keep, and a burst wider than the pool deadlocks. So a free lock is taken with
``pg_try_advisory_lock`` on one session shared by the whole process, which holds any number of them; only a lock
another worker holds is waited for, blocking, on a pooled session (``pg_advisory_lock``), and callers of one key in
one process queue in memory first, so a pool connection stands for one contended key, not one caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import asyncpg

from ._pg_session import CONNECTION_ERRORS
from ._postgres import PostgresDatabase

if TYPE_CHECKING:
    from ._postgres import PgConnection

log = logging.getLogger(__name__)
DROPPED = "the connection holding lock %s dropped before the block ended"


class SharedLockSession:
    """One connection of this process on which every free lock is taken and released."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database
        self._connection: PgConnection | None = None
        self._guard = asyncio.Lock()  # one query at a time on the connection

    async def try_lock(self, advisory: int) -> PgConnection | None:
        """The shared connection, now holding ``advisory``; ``None`` if another session holds it (or we cannot say)."""
        async with self._guard:
            try:
                connection = await self._connected()
                got = await connection.fetchval("SELECT pg_try_advisory_lock($1)", advisory)
            except CONNECTION_ERRORS:
                self._drop()
                return None  # the caller waits on a pooled session instead, which reports its own errors
            return connection if got else None

    async def unlock(self, connection: PgConnection, advisory: int, key: str) -> None:
        """Release ``advisory``, unless its session died meanwhile (the server freed it then: say so)."""
        async with self._guard:
            if connection is not self._connection or connection.is_closed():
                log.warning(DROPPED, key)
                return
            try:
                await connection.execute("SELECT pg_advisory_unlock($1)", advisory)
            except (*CONNECTION_ERRORS, asyncpg.InternalClientError):
                log.warning(DROPPED, key)
                self._drop()

    async def _connected(self) -> PgConnection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await self._database.connect()
        return self._connection

    def _drop(self) -> None:
        # Every lock of the dead session is gone with it; their holders learn it when they release.
        if self._connection is not None:
            with contextlib.suppress(asyncpg.InterfaceError):
                self._connection.terminate()
        self._connection = None

    async def aclose(self) -> None:
        """Close the shared connection, releasing what it holds."""
        async with self._guard:
            if self._connection is not None and not self._connection.is_closed():
                await self._connection.close()
            self._connection = None
