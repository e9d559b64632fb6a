"""The embedded coordinator: SQLite in the data folder for what must survive a crash, memory for the rest.

One process only (:attr:`EmbeddedCoordinator.multi_process` is ``False``): the locks, notifications and
leadership live in this process, and a lock on the data folder keeps a second process from starting on it. That is
also why the memo can be answered from memory (:class:`MemoCache`): nobody else writes its table. The statements run
on the event loop (:class:`LoopSqliteDatabase`): each is short, and a trip to a thread would cost more than it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from ._local import FanOut, FolderLock, KeyedLocks
from ._memo_cache import Known, MemoCache
from ._sqlite_loop import LoopSqliteDatabase
from ._store import SqlStore, StoreBacked

DATABASE_FILE = "coordination.sqlite3"
LOCK_FILE = "coordination.lock"


class EmbeddedCoordinator(StoreBacked):
    """The coordinator of a single process: journal, claims and memo in SQLite (WAL), locks and fan-out in memory.

    Open it with :meth:`open`; it takes the data folder's lock first, so two processes never share the file. The
    memo is written through to its table and read from memory once known (:attr:`memo_cache`).
    """

    multi_process = False

    def __init__(self, store: SqlStore, folder_lock: FolderLock) -> None:
        self.store = store
        self._folder_lock = folder_lock
        self._locks = KeyedLocks()
        self._fan_out = FanOut()
        self.memo_cache = MemoCache()
        # Serialises a key's table read or write with the cache update after it, so the cache never keeps an
        # answer older than a memo_set that returned.
        self._memo_locks = KeyedLocks()

    @classmethod
    async def open(cls, data_dir: Path, clock: Callable[[], float] = time.time) -> EmbeddedCoordinator:
        """Lock ``data_dir`` for this process and open (creating it) its coordination database.

        Raises:
            BackendInUseError: another process serves from ``data_dir``.
        """
        folder_lock = FolderLock(data_dir / LOCK_FILE)
        folder_lock.acquire()
        try:
            store = SqlStore(await LoopSqliteDatabase.open(data_dir / DATABASE_FILE), clock)
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

    async def memo_get(self, key: str) -> str | None:
        known = self.memo_cache.get(key)
        if known is None:
            known = await self._memo_read(key)
        return known.value if known.expires_at > self.store.clock() else None

    async def _memo_read(self, key: str) -> Known:
        async with self._memo_locks.hold(key):
            known = self.memo_cache.get(key)  # read by another caller while this one waited
            if known is None:
                known = await self.store.memo_entry(key)
                self.memo_cache.put(key, known)
            return known

    async def memo_set(self, key: str, value: str, ttl_seconds: float) -> None:
        """Write the row (an upsert: the last write wins), then the cache; a failed or cancelled write leaves the
        key out of the cache, so the next read asks the table."""
        async with self._memo_locks.hold(key):
            self.memo_cache.forget(key)
            expires_at = await self.store.memo_set(key, value, ttl_seconds)
            self.memo_cache.put(key, Known(value, expires_at))

    async def purge(self, older_than_seconds: float) -> int:
        cutoff = self.store.clock() - older_than_seconds
        dropped = await self.store.purge_before(cutoff)
        self.memo_cache.expire(cutoff)
        return dropped

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key)

    async def publish(self, channel: str, message: str) -> None:
        self._fan_out.publish(channel, message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        return self._fan_out.subscribe(channel)

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        # The one process is the leader of everything.
        await work()

    async def aclose(self) -> None:
        try:
            await self.store.database.aclose()
        finally:
            self._folder_lock.release()
