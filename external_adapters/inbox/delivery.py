"""The durable outbox: events for Botpress are written in the same transaction as the change that
caused them, then POSTed, signed, to the installation's webhook URL by a background worker.

A failed delivery is retried with exponential backoff until it succeeds; rows survive restarts. Repeating a
delivery is safe: each carries its event id, and the receiving side applies an event id once.
Events of one session go out in order: a session's later events wait for its oldest undelivered one.

Any worker may deliver any row: a pass first leases the rows it will send (``lease_until``, taken by a
compare-and-swap in one transaction; on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so workers
passing at once take different rows without waiting on each other). A leased row is nobody else's until it is
delivered, rescheduled, or its lease runs out: a crashed worker's rows go to the next worker that passes after that.
A session's events also wait for :meth:`~.service.InboxService.link` (Botpress must know the
conversation first), for at most ``LINK_GRACE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from coordination import Coordinator
from external_adapters.http_retry import RetryPolicy, send_with_retries

from .repo import get_installation
from .signing import signed_headers
from .store import Connection, Row, Store, dumps

logger = logging.getLogger(__name__)
LINK_GRACE_SECONDS = 30.0
BATCH_SIZE = 50
DELIVERY_POLICY = RetryPolicy(attempts=2, max_wait=1.0, base_wait=0.2)
WAKE_CHANNEL = "inbox-outbox"
"""Where a worker that queued events tells the others to look now rather than at their next poll."""

_DUE = """
SELECT o.* FROM outbox o JOIN sessions s ON s.id = o.session_id
WHERE o.delivered_at IS NULL AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?)
  AND o.gave_up_at IS NULL
  AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.session_id = o.session_id AND p.delivered_at IS NULL
              AND p.gave_up_at IS NULL)
  AND (s.bp_conversation_id IS NOT NULL OR o.created_at <= ?)
ORDER BY o.id LIMIT ?
"""
_LEASE = (
    "UPDATE outbox SET lease_until = ? WHERE id = ? AND delivered_at IS NULL "
    "AND (lease_until IS NULL OR lease_until <= ?)"
)


async def enqueue(
    db: Connection,
    *,
    event_id: str,
    installation_id: str,
    session_id: str,
    body: dict[str, Any],
    now: float,
    message_id: str | None = None,
) -> None:
    """Add an event to the outbox inside the caller's transaction (a repeated event id is ignored). ``message_id``
    names the message an ``agent_message`` carries: its row is that message's delivery state."""
    await db.execute(
        "INSERT INTO outbox (event_id, installation_id, session_id, body, next_attempt_at, created_at, message_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        (event_id, installation_id, session_id, dumps(body), now, now, message_id),
    )


def permanent_refusal(status: int) -> str | None:
    """The words of a webhook answer that repeating cannot change (a 4xx other than 408 and 429), else ``None``."""
    if status in (404, 410):
        return f"Botpress no longer knows this conversation (webhook answered {status})"
    if 400 <= status < 500 and status not in (408, 429):
        return f"webhook answered {status}"
    return None


async def requeue(db: Connection, message_id: str, now: float) -> bool:
    """Queue a message's outbox row that gave up again, now; ``False`` when it had not given up.

    A compare-and-swap on ``gave_up_at``: of two retries at once only one requeues it. The give-up clock restarts
    (``created_at`` is the time the row was last queued)."""
    return bool(
        await db.execute(
            "UPDATE outbox SET gave_up_at = NULL, attempts = 0, next_attempt_at = ?, created_at = ?, last_error = NULL "
            "WHERE message_id = ? AND gave_up_at IS NOT NULL AND delivered_at IS NULL",
            (now, now, message_id),
        )
    )


async def wake_other_workers(coordinator: Coordinator | None) -> None:
    """New rows were committed: tell the other workers' outboxes to look now rather than at their next poll."""
    if coordinator is None:
        return
    try:
        await coordinator.publish(WAKE_CHANNEL, "")
    except Exception:  # the rows are committed: the other workers' poll finds them anyway
        logger.exception("could not wake the other inbox outbox workers")


class Outbox:
    """Delivers outbox rows. :meth:`deliver_due` does one pass; :meth:`run` loops until stopped."""

    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float],
        base_seconds: float = 1.0,
        max_seconds: float = 300.0,
        lease_seconds: float = 120.0,
        coordinator: Coordinator | None = None,
        give_up_seconds: float = 3600.0,
        on_delivery: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._http = http
        self._clock = clock
        self._base = base_seconds
        self._max = max_seconds
        self._lease = lease_seconds
        self._coordinator = coordinator
        self._give_up = give_up_seconds
        self._on_delivery = on_delivery
        """Told the message id of an agent message whose delivery state changed (the console shows it live)."""
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()
        """Set once :meth:`run` listens for the other workers' wake-ups (at once without a coordinator)."""

    def wake(self) -> None:
        """Ask this process's worker to look for due rows now."""
        self._wake.set()

    async def lease_due(self) -> list[Row]:
        """Lease the due rows for this worker (see the module's docstring) and return them.

        A compare-and-swap on ``lease_until`` checked by its row count: a row another worker leased in the
        meantime is left to it."""
        now = self._clock()
        async with self._store.transaction() as db:
            candidates = await db.fetch_all(
                _DUE + self._store.for_update(of="o", skip_locked=True),
                (now, now, now - LINK_GRACE_SECONDS, BATCH_SIZE),
            )
            return [row for row in candidates if await db.execute(_LEASE, (now + self._lease, row["id"], now))]

    async def deliver_due(self) -> int:
        """Try every due row once, sessions side by side; return how many were delivered.

        The rows are each session's oldest undelivered event, so sending them concurrently keeps every
        session's order, and a delivery the receiver holds (the integration waits for the HITL plugin to
        take a new session) does not hold up the other sessions.
        """
        rows = await self.lease_due()
        results = await asyncio.gather(*(self._deliver(row) for row in rows), return_exceptions=True)
        failure = next((result for result in results if isinstance(result, BaseException)), None)
        if failure is not None:  # raised once every delivery of the pass has ended, so none is left running
            raise failure
        return sum(result for result in results if isinstance(result, int))

    async def _deliver(self, row: Row) -> int:
        async with self._store.read() as db:
            installation = await get_installation(db, row["installation_id"])
        if installation is None or not installation.webhook_url:
            await self._failed(row, "installation has no webhook URL (not subscribed)")
            return 0
        headers = signed_headers(installation.secret, int(self._clock()), row["body"], row["event_id"])
        url = installation.webhook_url

        async def send() -> httpx.Response:
            return await self._http.post(url, content=row["body"], headers=headers)

        try:
            # Idempotent by the event id (the body's ``id`` and the signed event header): the receiver applies each
            # id once, so a delivery whose answer was lost may be repeated, now or by a later pass.
            response = await send_with_retries(send, DELIVERY_POLICY, idempotent=True)
        except httpx.HTTPError as exc:
            await self._failed(row, f"network error: {type(exc).__name__}")
            return 0
        if response.is_success:
            await self._mark(
                row["id"],
                "UPDATE outbox SET delivered_at = ?, lease_until = NULL, attempts = attempts + 1 WHERE id = ?",
            )
            await self._changed(row)
            return 1
        refusal = permanent_refusal(response.status_code)
        await self._failed(row, refusal or f"webhook answered {response.status_code}", permanent=refusal is not None)
        return 0

    async def _changed(self, row: Row) -> None:
        if self._on_delivery is not None and row["message_id"]:
            try:
                await self._on_delivery(str(row["message_id"]))
            except Exception:  # the row is written; a lost live event costs a console refresh
                logger.exception("delivery state of %s not shown live", row["message_id"])

    async def _mark(self, row_id: int, sql: str) -> None:
        async with self._store.transaction() as db:
            await db.execute(sql, (self._clock(), row_id))

    async def _failed(self, row: Row, reason: str, *, permanent: bool = False) -> None:
        """Reschedule the row with backoff, or give up on it: a permanent refusal, or failures for longer than
        ``give_up_seconds`` since it was queued. A row that gave up no longer holds its session's later events."""
        now = self._clock()
        if permanent or now - row["created_at"] >= self._give_up:
            logger.warning("inbox event %s not delivered (%s); giving up", row["event_id"], reason)
            await self._set(row, "gave_up_at = ?, last_error = ?, lease_until = NULL", (now, reason))
            await self._changed(row)
            return
        delay = min(self._base * 2 ** row["attempts"], self._max)
        logger.warning("inbox event %s not delivered (%s); next try in %.0fs", row["event_id"], reason, delay)
        await self._set(row, "next_attempt_at = ?, last_error = ?, lease_until = NULL", (now + delay, reason))

    async def _set(self, row: Row, assignments: str, params: tuple[object, ...]) -> None:
        async with self._store.transaction() as db:
            await db.execute(
                f"UPDATE outbox SET attempts = attempts + 1, {assignments} WHERE id = ?", (*params, row["id"])
            )

    async def pending(self) -> list[dict[str, Any]]:
        """Undelivered rows, oldest first (for diagnostics and tests)."""
        rows = await self._store.fetch_all("SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id")
        return [dict(row) for row in rows]

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Deliver forever; wake early when :meth:`wake` is called, or another worker announces rows."""
        listener = asyncio.create_task(self._listen(), name="inbox-outbox-wake")
        try:
            await self._loop(idle_seconds)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, retry_seconds: float = 1.0) -> None:
        """Wake on every announcement of another worker; a lost subscription is made again (the poll covers the gap)."""
        if self._coordinator is None:
            self.listening.set()
        while self._coordinator is not None:
            try:
                async with self._coordinator.subscribe(WAKE_CHANNEL) as messages:
                    self.listening.set()
                    async for _ in messages:
                        self.wake()
            except Exception:
                logger.exception("inbox outbox wake-up subscription lost; subscribing again")
            await asyncio.sleep(retry_seconds)

    async def _loop(self, idle_seconds: float) -> None:
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:  # a bad row must not kill the worker
                logger.exception("inbox outbox pass failed")
                delivered = 0
            if delivered:
                # Each delivered row made its session's next event due: pass again now, or a backlog (after a
                # restart, an outage) would drain one event per session per poll.
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives as the
            # event is set, and the worker would then wait again forever while the app shuts down.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_seconds):
                    await self._wake.wait()
            self._wake.clear()


async def all_events(store: Store, session_id: str) -> list[dict[str, Any]]:
    """Every outbox row of a session, oldest first."""
    rows = await store.fetch_all("SELECT * FROM outbox WHERE session_id = ? ORDER BY id", (session_id,))
    return [dict(row) for row in rows]
