"""The durable half of the coordination port, in portable SQL on any :class:`Database`.

The journal, the claims and the memo are three tables written with ``INSERT ... ON CONFLICT`` so that each call is
one atomic statement on SQLite and on PostgreSQL alike. Times are wall-clock seconds (``clock``), compared in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._database import Database, Migration
from ._memo_cache import ABSENT, Known
from ._port import Coordinator, JournalEntry, JournalState, QueueState, WorkItem, WorkQueue
from ._queue import POSTGRESQL_SCHEMA, PURGE, SQLITE_SCHEMA, QueueStore

_SCHEMA = """
CREATE TABLE coordination_journal (
    key TEXT PRIMARY KEY, state TEXT NOT NULL, external_id TEXT, attempts INTEGER NOT NULL,
    created_at {real} NOT NULL, updated_at {real} NOT NULL);
CREATE INDEX coordination_journal_updated ON coordination_journal (updated_at);
CREATE TABLE coordination_claims (key TEXT PRIMARY KEY, claimed_at {real} NOT NULL, expires_at {real} NOT NULL);
CREATE INDEX coordination_claims_expires ON coordination_claims (expires_at);
CREATE TABLE coordination_memo (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at {real} NOT NULL);
CREATE INDEX coordination_memo_expires ON coordination_memo (expires_at)
"""

MIGRATIONS = [
    Migration(
        1,
        "journal, claims and memo",
        sqlite=_SCHEMA.format(real="REAL"),
        postgresql=_SCHEMA.format(real="DOUBLE PRECISION"),
    ),
    Migration(2, "work queue", sqlite=SQLITE_SCHEMA, postgresql=POSTGRESQL_SCHEMA),
]
"""The ``coordination`` component's schema steps (append, never edit)."""

# One statement: a first intent inserts (attempts 1: NEW); a later one on a pending key counts the attempt
# (PENDING); a done key is left as it is and read back (DONE). The row returned is the state after the upsert.
_INTENT = """
INSERT INTO coordination_journal (key, state, external_id, attempts, created_at, updated_at)
VALUES (?, 'pending', NULL, 1, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    attempts = CASE WHEN coordination_journal.state = 'pending'
                    THEN coordination_journal.attempts + 1 ELSE coordination_journal.attempts END,
    updated_at = CASE WHEN coordination_journal.state = 'pending'
                      THEN excluded.updated_at ELSE coordination_journal.updated_at END
RETURNING state, external_id, attempts
"""
_DONE = """
INSERT INTO coordination_journal (key, state, external_id, attempts, created_at, updated_at)
VALUES (?, 'done', ?, 1, ?, ?)
ON CONFLICT (key) DO UPDATE SET state = 'done', external_id = excluded.external_id, updated_at = excluded.updated_at
"""
# An expired claim is taken over in the same statement; a live one makes the update's WHERE false, so nothing
# is returned. PostgreSQL re-checks the WHERE on the row a concurrent inserter committed, so one caller wins.
_CLAIM = """
INSERT INTO coordination_claims (key, claimed_at, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
WHERE coordination_claims.expires_at <= excluded.claimed_at
RETURNING key
"""
_MEMO_SET = """
INSERT INTO coordination_memo (key, value, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
"""


class SqlStore:
    """Journal, claims and memo on one database (its ``coordination`` tables, see :data:`MIGRATIONS`)."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock
        self.queue = QueueStore(database, clock)

    async def migrate(self) -> None:
        """Create or update the tables (safe with several processes starting at once)."""
        await self.database.migrate("coordination", MIGRATIONS)

    async def intent(self, key: str) -> JournalEntry:
        """Write the intent (atomic upsert: a retry of this call only counts one more attempt)."""
        now = self.clock()
        async with self.database.transaction() as connection:
            row = await connection.fetch_one(_INTENT, (key, now, now))
        assert row is not None  # an upsert with RETURNING always returns its row
        return _entry(key, row["state"], row["external_id"], row["attempts"])

    async def done(self, key: str, external_id: str) -> None:
        """Record the outcome (an upsert: repeating it with the same id changes nothing)."""
        now = self.clock()
        await self.database.execute(_DONE, (key, external_id, now, now))

    async def abandon(self, key: str) -> None:
        """Forget a pending intent (a delete that keeps done entries: repeating it is harmless)."""
        await self.database.execute("DELETE FROM coordination_journal WHERE key = ? AND state = 'pending'", (key,))

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """Set the claim if absent or expired, in one statement."""
        now = self.clock()
        async with self.database.transaction() as connection:
            return await connection.fetch_one(_CLAIM, (key, now, now + ttl_seconds)) is not None

    async def release(self, key: str) -> None:
        """Drop the claim (a delete: repeating it is harmless)."""
        await self.database.execute("DELETE FROM coordination_claims WHERE key = ?", (key,))

    async def memo_get(self, key: str) -> str | None:
        """The live memo entry, if any."""
        sql = "SELECT value FROM coordination_memo WHERE key = ? AND expires_at > ?"
        row = await self.database.fetch_one(sql, (key, self.clock()))
        return None if row is None else str(row["value"])

    async def memo_entry(self, key: str) -> Known:
        """The memo row of ``key``, live or expired (:data:`ABSENT` when there is none)."""
        row = await self.database.fetch_one("SELECT value, expires_at FROM coordination_memo WHERE key = ?", (key,))
        return ABSENT if row is None else Known(str(row["value"]), float(row["expires_at"]))

    async def memo_set(self, key: str, value: str, ttl_seconds: float) -> float:
        """Set the memo entry (an upsert: the last write wins); return when it expires."""
        expires_at = self.clock() + ttl_seconds
        await self.database.execute(_MEMO_SET, (key, value, expires_at))
        return expires_at

    async def purge(self, older_than_seconds: float) -> int:
        """Drop journal entries untouched since the cutoff, and claims and memo entries expired before it."""
        return await self.purge_before(self.clock() - older_than_seconds)

    async def purge_before(self, cutoff: float) -> int:
        """:meth:`purge` with the cutoff given as a time (the work queue's tombstones and parked items too)."""
        async with self.database.transaction() as connection:
            dropped = await connection.execute("DELETE FROM coordination_journal WHERE updated_at < ?", (cutoff,))
            dropped += await connection.execute("DELETE FROM coordination_claims WHERE expires_at < ?", (cutoff,))
            dropped += await connection.execute("DELETE FROM coordination_memo WHERE expires_at < ?", (cutoff,))
            dropped += await connection.execute(PURGE, (cutoff,))
        return dropped


def _entry(key: str, state: str, external_id: str | None, attempts: int) -> JournalEntry:
    if state == JournalState.DONE:
        return JournalEntry(key, JournalState.DONE, external_id, attempts)
    return JournalEntry(key, JournalState.NEW if attempts == 1 else JournalState.PENDING, None, attempts)


class StoreBacked(Coordinator, WorkQueue):
    """What both backends keep as rows (claims, the journal, the memo, the work queue), delegated to their
    :class:`SqlStore`."""

    store: SqlStore

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

    async def purge(self, older_than_seconds: float) -> int:
        return await self.store.purge(older_than_seconds)

    async def queue_put(self, key: str, order_key: str, payload: str) -> bool:
        return await self.store.queue.put(key, order_key, payload)

    async def queue_take(self, owner: str, lease_seconds: float, limit: int, max_attempts: int) -> list[WorkItem]:
        return await self.store.queue.take(owner, lease_seconds, limit, max_attempts)

    async def queue_renew(self, key: str, owner: str, lease_seconds: float) -> bool:
        return await self.store.queue.renew(key, owner, lease_seconds)

    async def queue_done(self, key: str) -> None:
        await self.store.queue.done(key)

    async def queue_retry(self, key: str, owner: str, delay_seconds: float, error: str) -> None:
        await self.store.queue.retry(key, owner, delay_seconds, error)

    async def queue_fail(self, key: str, owner: str, error: str) -> None:
        await self.store.queue.fail(key, owner, error)

    async def queue_state(self, key: str) -> QueueState | None:
        return await self.store.queue.state(key)
