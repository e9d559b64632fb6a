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


@dataclass(frozen=True)
class WorkItem:
    """A queued piece of work, leased to the taker by :meth:`WorkQueue.queue_take`."""

    key: str
    order_key: str
    payload: str
    attempts: int
    """How many times the item was taken, this time included (a crash while it ran counts too)."""


class QueueState(StrEnum):
    """Where a queued key is."""

    READY = "ready"
    """Waiting, leased to a taker, or waiting out a retry's delay: it will run (again)."""
    DONE = "done"
    """Done: a tombstone without its payload, so a redelivery of the key is dropped until :meth:`Coordinator.purge`."""
    FAILED = "failed"
    """Parked after too many attempts: never taken again (its payload is kept until the purge, for an operator)."""


class WorkQueue(ABC):
    """A durable work queue: what is put survives a crash and is run at least once by some taker, one item of an
    order key at a time, oldest first. Both backends implement it (see :func:`work_queue_of`)."""

    @abstractmethod
    async def queue_put(self, key: str, order_key: str, payload: str) -> bool:
        """Queue ``payload`` once per ``key``; ``False`` (nothing changed) if the key is queued, running, done or
        failed. Committed when it returns."""

    @abstractmethod
    async def queue_take(self, owner: str, lease_seconds: float, limit: int, max_attempts: int) -> list[WorkItem]:
        """Lease up to ``limit`` ready items to ``owner`` for ``lease_seconds``, atomically, oldest first.

        Ready: not leased (or the lease expired: its taker crashed) and its retry delay over. Only the oldest ready
        item of an order key is ever taken, and not while another taker holds it, so one order key's items run one
        at a time, in the order they were put. An item already taken ``max_attempts`` times whose lease expired is
        parked (:attr:`QueueState.FAILED`, logged at ERROR) instead.
        """

    @abstractmethod
    async def queue_renew(self, key: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease of ``key``; ``False`` if ``owner`` no longer holds it."""

    @abstractmethod
    async def queue_done(self, key: str) -> None:
        """Mark ``key`` done and drop its payload (the tombstone stays until the purge). Repeating it is harmless."""

    @abstractmethod
    async def queue_retry(self, key: str, owner: str, delay_seconds: float, error: str) -> None:
        """Give ``owner``'s lease of ``key`` back, to be taken again after ``delay_seconds``; a no-op if ``owner``
        no longer holds it (its lease expired and another taker has it)."""

    @abstractmethod
    async def queue_fail(self, key: str, owner: str, error: str) -> None:
        """Park ``owner``'s item ``key``: it is never taken again. A no-op if ``owner`` no longer holds it."""

    @abstractmethod
    async def queue_state(self, key: str) -> QueueState | None:
        """Where ``key`` is, or ``None`` if it was never put (or was purged)."""


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
        """Drop journal entries, claims, memo entries, and the work queue's done and parked items older than that;
        return how many went."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release every connection and lock."""


def work_queue_of(coordinator: Coordinator) -> WorkQueue:
    """The work queue of a coordinator: both backends keep one in their tables.

    Raises:
        TypeError: ``coordinator`` is of a kind that keeps no queue (a test double).
    """
    if not isinstance(coordinator, WorkQueue):
        raise TypeError(f"{type(coordinator).__name__} keeps no work queue")
    return coordinator
