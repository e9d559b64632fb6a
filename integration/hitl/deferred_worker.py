"""The work queue's worker: takes the queued webhooks (:mod:`.deferred`) and applies them, at least once.

Every process runs one (started by the app). It is woken at once by a put in any process (a notification on
:data:`.deferred.WAKE_CHANNEL`) and polls besides, for what a notification does not announce: an expired lease (its
taker crashed), a retry whose delay is over, a notification missed. An item runs under a lease renewed while it
runs; it is done when its events are applied, retried with a growing delay when that fails, and parked after
:attr:`WorkerPolicy.max_attempts`. Applying twice is harmless: the core dedupes every event (:mod:`.inbound`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from coordination import Coordinator, WorkItem, work_queue_of
from external_adapters import AdapterConfigError, InvalidWebhookError, UnknownAdapterError

from ..errors import ContextError
from ..services import Services
from .deferred import WAKE_CHANNEL, decode
from .inbound import process_webhook

log = logging.getLogger(__name__)
Handler = Callable[[WorkItem], Awaitable[None]]


class UnworkableError(Exception):
    """Raised by a handler when no retry can help (an unreadable payload or webhook): the item is parked at once."""


@dataclass(frozen=True)
class WorkerPolicy:
    """How a worker takes and retries (the app fills it from the settings)."""

    lease_seconds: float = 60.0
    """How long an item is held before another worker may take it, renewed every third of it while it runs."""
    concurrency: int = 4
    """Items run at once by this worker (of different order keys); 0 takes none."""
    poll_seconds: float = 1.0
    max_attempts: int = 10
    first_delay_seconds: float = 10.0
    max_delay_seconds: float = 900.0
    shutdown_grace_seconds: float = 5.0
    """At shutdown, how long running items may go on before they are stopped and given back."""

    def delay(self, attempts: int) -> float:
        """The wait before attempt ``attempts + 1``: 10 s doubling up to 15 min (about 50 min over 10 attempts)."""
        return float(min(self.max_delay_seconds, self.first_delay_seconds * 2 ** (attempts - 1)))


class QueueWorker:
    """Takes items of the coordinator's work queue and runs ``handle`` on each, until cancelled."""

    def __init__(self, coordinator: Coordinator, handle: Handler, policy: WorkerPolicy) -> None:
        self.coordinator = coordinator
        self.queue = work_queue_of(coordinator)
        self.handle = handle
        self.policy = policy
        # The process id tells an operator (and the crash tests) which process holds a lease in the queue's table.
        self.owner = f"worker-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Take and run items until cancelled; then let running items finish within the grace, and give back the
        others (their leases end at once, so the next worker takes them without waiting for expiry)."""
        listening = asyncio.create_task(self._listen(), name="work-queue-listen")
        try:
            while True:
                self._wake.clear()  # before the take: a put during it leaves the event set, so none is missed
                await self._fill()
                await self._idle()
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening  # its unsubscribe is done before the backend closes
            await self._stop_running()

    async def _fill(self) -> None:
        free = self.policy.concurrency - len(self._running)
        if free <= 0:
            return
        try:
            items = await self.queue.queue_take(self.owner, self.policy.lease_seconds, free, self.policy.max_attempts)
        except Exception as exc:  # the store is unreachable: try again at the next poll
            log.warning("work queue: could not take items (%s: %s)", type(exc).__name__, exc)
            return
        for item in items:
            task = asyncio.create_task(self.run_item(item), name=f"work:{item.key}")
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free, and the item's order key may have a next one

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.policy.poll_seconds):
                await self._wake.wait()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.coordinator.subscribe(WAKE_CHANNEL) as messages:
                    async for _ in messages:
                        self._wake.set()
            except Exception as exc:  # notifications only speed things up: the poll goes on meanwhile
                log.warning("work queue: not notified of puts (%s); polling only", type(exc).__name__)
            await asyncio.sleep(self.policy.poll_seconds)

    async def run_item(self, item: WorkItem) -> None:
        """Run one item under its lease, then record the outcome (done, retry or parked)."""
        renewing = asyncio.create_task(self._renew(item.key), name=f"renew:{item.key}")
        try:
            await self.handle(item)
        except asyncio.CancelledError:
            await self._give_back(item)
            raise
        except Exception as exc:
            await self._record(self._failed(item, exc), item)
        else:
            await self._record(self.queue.queue_done(item.key), item)
        finally:
            renewing.cancel()

    async def _failed(self, item: WorkItem, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, UnworkableError) or item.attempts >= self.policy.max_attempts:
            log.error("work queue: parked %s after %d attempts: %s", item.key, item.attempts, error)
            await self.queue.queue_fail(item.key, self.owner, error)
            return
        delay = self.policy.delay(item.attempts)
        log.warning("work queue: %s failed (attempt %d), again in %.0fs: %s", item.key, item.attempts, delay, error)
        await self.queue.queue_retry(item.key, self.owner, delay, error)

    async def _record(self, outcome: Awaitable[None], item: WorkItem) -> None:
        try:
            await outcome
        except Exception as exc:  # the store is unreachable: the lease expires and the item runs again
            log.warning("work queue: could not record the outcome of %s (%s)", item.key, type(exc).__name__)

    async def _give_back(self, item: WorkItem) -> None:
        with contextlib.suppress(Exception):  # else the lease expires, which gives it back too
            await self.queue.queue_retry(item.key, self.owner, 0, "stopped by a shutdown")

    async def _renew(self, key: str) -> None:
        while True:
            await asyncio.sleep(self.policy.lease_seconds / 3)
            try:
                if not await self.queue.queue_renew(key, self.owner, self.policy.lease_seconds):
                    log.warning("work queue: the lease of %s was lost; another worker may run it too", key)
                    return
            except Exception as exc:  # a hiccup of the store: the next renewal may get through
                log.warning("work queue: could not renew the lease of %s (%s)", key, type(exc).__name__)

    async def _stop_running(self) -> None:
        if not self._running:
            return
        _, pending = await asyncio.wait(set(self._running), timeout=self.policy.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def webhook_handler(services: Services) -> Handler:
    """Runs a queued webhook: rebuild the operation's Deps from its context, then parse and apply it."""

    async def handle(item: WorkItem) -> None:
        try:
            job = decode(item.payload)
        except (ValueError, ContextError) as exc:
            raise UnworkableError(f"cannot rebuild the operation ({type(exc).__name__})") from None
        # open_deps starts the adapter's lifespan in this process if it has not yet (a worker may take an item
        # for an adapter no request here has named), and closes the adapter instance afterwards.
        try:
            async with services.open_deps(job.ctx) as deps:
                await process_webhook(deps, job.request)
        except (AdapterConfigError, UnknownAdapterError) as exc:
            raise UnworkableError(f"cannot rebuild the operation ({type(exc).__name__})") from None
        except InvalidWebhookError as exc:
            raise UnworkableError(str(exc)) from None

    return handle


@asynccontextmanager
async def running_worker(services: Services, policy: WorkerPolicy) -> AsyncIterator[QueueWorker]:
    """Run a worker of queued webhooks for the block (the app's lifetime); stop it at the end (see
    :meth:`QueueWorker.run`)."""
    worker = QueueWorker(services.coordinator, webhook_handler(services), policy)
    task = asyncio.create_task(worker.run(), name="work-queue")
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
