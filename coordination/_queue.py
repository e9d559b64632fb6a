"""The durable work queue, in portable SQL on any :class:`Database` (one table, ``coordination_queue``).

Each call is one statement (a take parks crash-looping items first, in a statement of its own), so a call that is
retried, or that two workers make at once, never runs an item twice at the same time nor loses one. Order is the
``seq`` of the put: an identity on PostgreSQL, ``AUTOINCREMENT`` on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ._database import Database, Row
from ._port import QueueState, WorkItem

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE coordination_queue (
    {seq}, key TEXT NOT NULL UNIQUE, order_key TEXT NOT NULL, payload TEXT, state TEXT NOT NULL,
    attempts INTEGER NOT NULL, owner TEXT, lease_until {real}, not_before {real} NOT NULL, last_error TEXT,
    created_at {real} NOT NULL, updated_at {real} NOT NULL);
CREATE INDEX coordination_queue_ready ON coordination_queue (state, order_key, seq);
CREATE INDEX coordination_queue_updated ON coordination_queue (updated_at)
"""
SQLITE_SCHEMA = _SCHEMA.format(seq="seq INTEGER PRIMARY KEY AUTOINCREMENT", real="REAL")
POSTGRESQL_SCHEMA = _SCHEMA.format(seq="seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", real="DOUBLE PRECISION")

_PUT = """
INSERT INTO coordination_queue (key, order_key, payload, state, attempts, not_before, created_at, updated_at)
VALUES (?, ?, ?, 'ready', 0, 0, ?, ?)
ON CONFLICT (key) DO NOTHING
RETURNING seq
"""
# The inner select picks the oldest ready item of each order key when nobody holds it; the outer WHERE repeats the
# lease test because PostgreSQL re-checks only that on a row a concurrent taker updated first (so one taker wins
# and the other skips the row) while the IN list is not re-evaluated.
_TAKE = """
UPDATE coordination_queue SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
WHERE state = 'ready' AND (lease_until IS NULL OR lease_until <= ?) AND seq IN (
    SELECT q.seq FROM coordination_queue q
    WHERE q.state = 'ready' AND q.not_before <= ? AND (q.lease_until IS NULL OR q.lease_until <= ?)
      AND NOT EXISTS (SELECT 1 FROM coordination_queue o
                      WHERE o.order_key = q.order_key AND o.state = 'ready' AND o.seq < q.seq)
    ORDER BY q.seq LIMIT ?)
RETURNING seq, key, order_key, payload, attempts
"""
_PARK_CRASHED = """
UPDATE coordination_queue SET state = 'failed', owner = NULL, lease_until = NULL, updated_at = ?,
    last_error = 'its taker stopped before it finished, every attempt'
WHERE state = 'ready' AND attempts >= ? AND lease_until IS NOT NULL AND lease_until <= ?
RETURNING key, attempts
"""
_HELD = "key = ? AND owner = ? AND state = 'ready'"


class QueueStore:
    """The work queue's statements on one database (the ``coordination`` component's second migration)."""

    def __init__(self, database: Database, clock: Callable[[], float]) -> None:
        self.database = database
        self.clock = clock

    async def put(self, key: str, order_key: str, payload: str) -> bool:
        """Insert once per key (``ON CONFLICT DO NOTHING``: a repeat, or a retry of this call, changes nothing)."""
        now = self.clock()
        async with self.database.transaction() as connection:
            return await connection.fetch_one(_PUT, (key, order_key, payload, now, now)) is not None

    async def take(self, owner: str, lease_seconds: float, limit: int, max_attempts: int) -> list[WorkItem]:
        """Park the crash-looping items, then lease the ready ones (one ``UPDATE ... RETURNING`` each)."""
        now = self.clock()
        async with self.database.transaction() as connection:
            parked = await connection.fetch_all(_PARK_CRASHED, (now, max_attempts, now))
        for row in parked:
            log.error("work queue: parked %s after %d attempts that never finished", row["key"], row["attempts"])
        params = (owner, now + lease_seconds, now, now, now, now, limit)
        async with self.database.transaction() as connection:
            rows = await connection.fetch_all(_TAKE, params)
        return [_item(row) for row in sorted(rows, key=lambda row: int(row["seq"]))]

    async def renew(self, key: str, owner: str, lease_seconds: float) -> bool:
        """Move the lease's end (an update guarded by the owner: repeating it is harmless)."""
        sql = f"UPDATE coordination_queue SET lease_until = ? WHERE {_HELD}"
        return await self.database.execute(sql, (self.clock() + lease_seconds, key, owner)) > 0

    async def done(self, key: str) -> None:
        """Tombstone the key (an update: repeating it is harmless)."""
        sql = (
            "UPDATE coordination_queue SET state = 'done', payload = NULL, owner = NULL, lease_until = NULL, "
            "last_error = NULL, updated_at = ? WHERE key = ?"
        )
        await self.database.execute(sql, (self.clock(), key))

    async def retry(self, key: str, owner: str, delay_seconds: float, error: str) -> None:
        """Release the lease with a delay (guarded by the owner: a late or repeated call changes nothing)."""
        now = self.clock()
        sql = (
            "UPDATE coordination_queue SET owner = NULL, lease_until = NULL, not_before = ?, last_error = ?, "
            f"updated_at = ? WHERE {_HELD}"
        )
        await self.database.execute(sql, (now + delay_seconds, error[:1000], now, key, owner))

    async def fail(self, key: str, owner: str, error: str) -> None:
        """Park the item (guarded by the owner)."""
        sql = (
            "UPDATE coordination_queue SET state = 'failed', owner = NULL, lease_until = NULL, last_error = ?, "
            f"updated_at = ? WHERE {_HELD}"
        )
        await self.database.execute(sql, (error[:1000], self.clock(), key, owner))

    async def state(self, key: str) -> QueueState | None:
        """The key's state, if it is in the table."""
        row = await self.database.fetch_one("SELECT state FROM coordination_queue WHERE key = ?", (key,))
        return None if row is None else QueueState(row["state"])


PURGE = "DELETE FROM coordination_queue WHERE state IN ('done', 'failed') AND updated_at < ?"
"""Drops the tombstones and parked items untouched since the cutoff (ready items are never purged)."""


def _item(row: Row) -> WorkItem:
    return WorkItem(str(row["key"]), str(row["order_key"]), str(row["payload"]), int(row["attempts"]))
