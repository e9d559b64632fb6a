"""The coordination port: what every "not twice" guarantee of the bridge goes through.

One interface, two backends: embedded (SQLite in the data folder, one process) and PostgreSQL (any number of
workers on any number of hosts). Both keep the journal and the claims on disk, so a kill -9 loses none of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum


class JournalState(StrEnum):
    """What the journal knew of a key when an intent was written."""

    NEW = "new"
    """Nobody tried it: do it."""
    PENDING = "pending"
    """An earlier attempt started and never recorded its outcome (a crash, a lost answer): settle it first, by
    asking the other side whether it happened, before doing it again."""
    DONE = "done"
    """It happened; :attr:`JournalEntry.external_id` says what it made."""


@dataclass(frozen=True)
class JournalEntry:
    """The journal's answer to :meth:`Coordinator.intent`."""

    key: str
    state: JournalState
    external_id: str | None = None
    attempts: int = 1
    """How many intents were written for the key, this one included."""


class Coordinator(ABC):
    """Locks, claims, the delivery journal, a shared memo, notifications and leadership, across processes.

    Keys are free-form strings that say what they guard, e.g. ``msg:<bot id>:<bp message id>``.
    """

    multi_process: bool
    """Whether several processes may share this backend (PostgreSQL) or only one (embedded)."""

    @abstractmethod
    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` exclusively across every process of the backend for the block; waits for it."""

    @abstractmethod
    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """Set ``key`` if absent or expired, atomically; ``True`` if this call set it."""

    @abstractmethod
    async def release(self, key: str) -> None:
        """Drop a claim (dropping a missing one is harmless)."""

    @abstractmethod
    async def intent(self, key: str) -> JournalEntry:
        """Record the intent to do ``key`` and return what the journal held before (:class:`JournalState`).

        Call it under :meth:`lock` of the same key, so two attempts never overlap.
        """

    @abstractmethod
    async def done(self, key: str, external_id: str) -> None:
        """Record that ``key`` happened and made ``external_id``."""

    @abstractmethod
    async def abandon(self, key: str) -> None:
        """Forget a pending intent that is known not to have happened (a definite refusal), so a retry is new."""

    @abstractmethod
    async def memo_get(self, key: str) -> str | None:
        """A shared cache entry, or ``None`` if absent or expired."""

    @abstractmethod
    async def memo_set(self, key: str, value: str, ttl_seconds: float) -> None:
        """Share ``value`` under ``key`` for ``ttl_seconds``."""

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` (at most 7,000 bytes) to every subscriber of ``channel`` in every process."""

    @abstractmethod
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """The messages published on ``channel`` while the block runs, from every process."""

    @abstractmethod
    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` while this process is the one leader for ``name``; wait for leadership until then.

        Runs until cancelled. If leadership is lost (the connection holding it dropped), ``work`` is cancelled
        and leadership is sought again.
        """

    @abstractmethod
    async def purge(self, older_than_seconds: float) -> int:
        """Drop journal entries, claims and memo entries older than that; return how many went."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release every connection and lock."""
