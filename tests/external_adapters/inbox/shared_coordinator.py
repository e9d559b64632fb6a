"""A coordinator shared by several services in one test, standing in for the PostgreSQL one between processes.

Each service gets its own :class:`SharedCoordinator` (its own "connection") on one :class:`Bus`: a message published
through one reaches every subscriber of every other, and one of them at a time leads a name. :meth:`crash` drops a
"connection" as a kill -9 would: its leadership goes, its work is cancelled, and another may lead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from coordination import Coordinator, JournalEntry, JournalState


@dataclass
class Bus:
    """What the workers of one test share (the database server, in production)."""

    subscribers: dict[str, set[asyncio.Queue[str]]] = field(default_factory=dict)
    leaders: dict[str, SharedCoordinator] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    published: list[tuple[str, str]] = field(default_factory=list)
    journal: dict[str, JournalEntry] = field(default_factory=dict)
    claims: set[str] = field(default_factory=set)
    memo: dict[str, str] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)


class SharedCoordinator(Coordinator):
    """One worker's coordinator on a :class:`Bus`."""

    multi_process = True

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.crashed = False
        self._leading: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        async with self.bus.locks.setdefault(key, asyncio.Lock()):
            yield

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        new = key not in self.bus.claims
        self.bus.claims.add(key)
        return new

    async def release(self, key: str) -> None:
        self.bus.claims.discard(key)

    async def intent(self, key: str) -> JournalEntry:
        before = self.bus.journal.get(key, JournalEntry(key, JournalState.NEW, attempts=0))
        if before.state is not JournalState.DONE:
            self.bus.journal[key] = JournalEntry(key, JournalState.PENDING, attempts=before.attempts + 1)
        return before

    async def done(self, key: str, external_id: str) -> None:
        self.bus.journal[key] = JournalEntry(key, JournalState.DONE, external_id)

    async def abandon(self, key: str) -> None:
        self.bus.journal.pop(key, None)

    async def memo_get(self, key: str) -> str | None:
        return self.bus.memo.get(key)

    async def memo_set(self, key: str, value: str, ttl_seconds: float) -> None:
        self.bus.memo[key] = value

    async def publish(self, channel: str, message: str) -> None:
        assert len(message.encode()) <= 7000, "the port's limit on one message"
        self.bus.published.append((channel, message))
        for queue in self.bus.subscribers.get(channel, set()):
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.bus.subscribers.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self.bus.subscribers[channel].discard(queue)

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await work()

        while True:
            async with self.bus.changed:
                await self.bus.changed.wait_for(lambda: name not in self.bus.leaders and not self.crashed)
                self.bus.leaders[name] = self
                self.bus.changed.notify_all()
            task = asyncio.create_task(run())
            self._leading.add(task)
            try:
                await asyncio.wait({task})  # a crash cancels the work; a cancellation of lead() itself raises here
            finally:
                self._leading.discard(task)
                task.cancel()
                await self._step_down(name)

    async def _step_down(self, name: str) -> None:
        async with self.bus.changed:
            if self.bus.leaders.get(name) is self:
                del self.bus.leaders[name]
            self.bus.changed.notify_all()

    def leader(self, name: str) -> SharedCoordinator | None:
        """Who leads ``name`` now."""
        return self.bus.leaders.get(name)

    async def crash(self) -> None:
        """Lose this worker's "connection": its leaderships end, and it leads nothing again."""
        self.crashed = True
        for task in list(self._leading):
            task.cancel()
        await asyncio.sleep(0)

    async def purge(self, older_than_seconds: float) -> int:
        return 0

    async def aclose(self) -> None:
        await self.crash()
