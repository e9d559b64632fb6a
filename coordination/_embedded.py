"""The embedded coordinator: SQLite in the data folder for what must survive a crash, memory for the rest.

One process only (:attr:`EmbeddedCoordinator.multi_process` is ``False``): the locks, notifications and
leadership live in this process, and a lock on the data folder keeps a second process from starting on it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from ._local import FanOut, FolderLock, KeyedLocks
from ._port import Coordinator, JournalEntry
from ._sqlite import SqliteDatabase
from ._store import SqlStore

DATABASE_FILE = "coordination.sqlite3"
LOCK_FILE = "coordination.lock"


class EmbeddedCoordinator(Coordinator):
    """The coordinator of a single process: journal, claims and memo in SQLite (WAL), locks and fan-out in memory.

    Open it with :meth:`open`; it takes the data folder's lock first, so two processes never share the file.
    """

    multi_process = False

    def __init__(self, store: SqlStore, folder_lock: FolderLock) -> None:
        self.store = store
        self._folder_lock = folder_lock
        self._locks = KeyedLocks()
        self._fan_out = FanOut()

    @classmethod
    async def open(cls, data_dir: Path, clock: Callable[[], float] = time.time) -> EmbeddedCoordinator:
        """Lock ``data_dir`` for this process and open (creating it) its coordination database.

        Raises:
            BackendInUseError: another process serves from ``data_dir``.
        """
        folder_lock = FolderLock(data_dir / LOCK_FILE)
        folder_lock.acquire()
        try:
            store = SqlStore(await SqliteDatabase.open(data_dir / DATABASE_FILE), clock)
            await store.migrate()
        except BaseException:
            folder_lock.release()
            raise
        return cls(store, folder_lock)

    @staticmethod
    def check_free(data_dir: Path) -> None:
        """Raise :class:`BackendInUseError` now if another process serves from ``data_dir`` (a check before start-up
        prints anything; :meth:`open` takes the lock for good)."""
        probe = FolderLock(data_dir / LOCK_FILE)
        probe.acquire()
        probe.release()

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key)

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
        self._fan_out.publish(channel, message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        return self._fan_out.subscribe(channel)

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        # The one process is the leader of everything.
        await work()

    async def purge(self, older_than_seconds: float) -> int:
        return await self.store.purge(older_than_seconds)

    async def aclose(self) -> None:
        try:
            await self.store.database.aclose()
        finally:
            self._folder_lock.release()
