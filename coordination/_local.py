"""In-process pieces of the embedded backend: keyed locks, a fan-out of notifications, the data-folder lock."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SUBSCRIBER_QUEUE_SIZE = 10_000
"""Messages one subscriber may fall behind by before new ones are dropped for it (PostgreSQL's queue is bounded
too): a subscriber that stopped reading must not grow the process's memory without end."""


class BackendError(RuntimeError):
    """The coordination backend cannot open; the message is one line saying what to change."""


class BackendInUseError(BackendError):
    """Another process already serves from this data folder with the embedded backend."""


class BackendUnavailableError(BackendError):
    """The PostgreSQL server of ``HITL_BRIDGE_DATABASE_URL`` cannot be reached or refused the connection."""


class KeyedLocks:
    """One asyncio lock per key, forgotten once nobody holds or waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of ``key`` for the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class FanOut:
    """Publish/subscribe inside one process: every subscriber of a channel gets every message published on it."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}

    def publish(self, channel: str, message: str) -> None:
        """Queue ``message`` for each current subscriber of ``channel``."""
        for queue in self._subscribers.get(channel, ()):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("a subscriber of %s fell %d messages behind: dropping one", channel, queue.maxsize)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """The messages published on ``channel`` while the block runs."""
        queue: asyncio.Queue[str] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            subscribers = self._subscribers[channel]
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[channel]


async def _drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()


class FolderLock:
    """An exclusive ``flock`` on a file of the data folder, held while the process serves from it.

    The kernel drops it when the process exits, however it exits (a kill -9 included), so a stale lock file never
    blocks a restart.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`BackendInUseError` at once if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BackendInUseError(
                f"another hitl-bridge process is using the data folder {self.path.parent} (it holds {self.path.name}):"
                " the embedded backend serves one process only; stop the other one, give this one another"
                " HITL_BRIDGE_DATA_DIR, or set HITL_BRIDGE_DATABASE_URL to run several workers on PostgreSQL"
            ) from None
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (releasing twice is harmless)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
