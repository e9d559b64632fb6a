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
from ._sqlite import SqliteDatabase
from ._store import SqlStore, StoreBacked

DATABASE_FILE = "coordination.sqlite3"
LOCK_FILE = "coordination.lock"


class EmbeddedCoordinator(StoreBacked):
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
