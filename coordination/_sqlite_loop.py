"""The coordinator's SQLite database, run on the event loop: its short statements without a trip to a thread.

Each statement of the embedded coordinator is one short upsert or select; through aiosqlite each costs several
trips to its thread and back through the loop's self-pipe, far more CPU than SQLite spends on it. Here they run
synchronously on the loop. What could block the loop stays off it: in WAL mode with ``synchronous=NORMAL`` a commit
only writes the WAL (to the page cache: no fsync, and a kill -9 of the process keeps it), and only checkpoints
fsync. So automatic checkpoints are off (``wal_autocheckpoint=0``) and a :class:`Checkpointer` runs
``PRAGMA wal_checkpoint(PASSIVE)`` in a thread, on a connection of its own, every :data:`CHECKPOINT_COMMITS` commits
or :data:`CHECKPOINT_SECONDS` seconds after a commit; a passive checkpoint never blocks this connection's writes,
and when the checkpoints fall behind a write waits for one (asynchronously, see :class:`Checkpointer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

from ._database import Connection, Params, Row
from ._sqlite import LockedSqlite

log = logging.getLogger(__name__)

CHECKPOINT_COMMITS = 200
"""Commits after which a checkpoint is due (about 600 WAL pages of coordinator upserts, under SQLite's own 1,000)."""
CHECKPOINT_SECONDS = 1.0
"""How long a commit waits at most for a checkpoint, so a quiet process does not leave its WAL un-checkpointed."""
MAX_WAL_PAGES = 4096
"""A WAL this long (16 MiB of 4 KiB pages) at a checkpoint makes the next write wait for a complete one."""
SETTLE_COMMITS = 2000
"""Commits after which, with no checkpoint finished meanwhile, the next write waits for a complete one."""
_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL", "wal_autocheckpoint=0")


class _LoopConnection(Connection):
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._db.execute(sql, tuple(params)).rowcount

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # sqlite3.Row reads by column name as a Mapping does, though typeshed does not say so.
        return cast(list[Row], self._db.execute(sql, tuple(params)).fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        # Closing the cursor resets the statement, so a RETURNING upsert is finished before the COMMIT.
        with contextlib.closing(self._db.execute(sql, tuple(params))) as cursor:
            return cast(Row | None, cursor.fetchone())


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False only so that aclose() can close it in a thread (the close checkpoints and fsyncs).
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    return db


class LoopSqliteDatabase(LockedSqlite):
    """A SQLite database (WAL, foreign keys on) whose statements run on the event loop, for short transactions.

    Every access goes through :meth:`transaction` or :meth:`read`, which share one lock, so a reader never sees half
    of a transaction. A committed transaction is in the WAL when the block ends and survives a kill -9. Open it
    with :meth:`open`; its :class:`Checkpointer` runs until :meth:`aclose`.
    """

    dialect = "sqlite"

    def __init__(self, db: sqlite3.Connection, path: Path, checkpointer: Checkpointer) -> None:
        self._db = db
        self._connection = _LoopConnection(db)
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path
        self.checkpointer = checkpointer
        self._checkpoints = asyncio.create_task(checkpointer.run(), name=f"checkpoints of {path.name}")

    @classmethod
    async def open(cls, path: Path, *, checkpoint_commits: int = CHECKPOINT_COMMITS) -> LoopSqliteDatabase:
        """Open (creating it and its folder if needed) the database file at ``path``, in a thread."""
        db = await asyncio.to_thread(_connect, path)
        return cls(db, path, Checkpointer(path, checkpoint_commits, CHECKPOINT_SECONDS))

    async def aclose(self) -> None:
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            self._checkpoints.cancel()
            # asyncio.wait, not a suppressed CancelledError: a cancellation of aclose itself must go through.
            await asyncio.wait([self._checkpoints])
            await asyncio.to_thread(self._db.close)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error (a failed ``COMMIT``
        too, as :meth:`SqliteDatabase.transaction` says why)."""
        async with self._lock:
            if self.checkpointer.must_settle():
                await self.checkpointer.settle()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        self.checkpointer.committed()

    def _rollback(self) -> None:
        # Some failures (SQLITE_FULL, SQLITE_IOERR...) have rolled the transaction back already; a failed ROLLBACK
        # must never replace the original error.
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.warning("sqlite: the rollback after a failed transaction failed too (%s)", type(exc).__name__)


class Checkpointer:
    """Runs the WAL checkpoints of one database file in a thread, on a connection of its own.

    A pass starts from :meth:`committed` once enough commits are waiting (in the executor at once: it needs no turn
    of the loop), or from :meth:`run` a second after a commit. A passive checkpoint racing the loop's writes may never
    catch up with them, and SQLite restarts the WAL only once all of it is checkpointed; so when a pass saw the WAL
    over :data:`MAX_WAL_PAGES`, or :data:`SETTLE_COMMITS` commits went by without a pass finishing (a loop that never
    yields), the next transaction calls :meth:`settle` first: it waits, without blocking the loop, for a pass run
    with no write in between, which then restarts the WAL itself with a one-page write (``user_version``, unused):
    the first write of a restarted WAL fsyncs its header, and that is the thread's to do, not the loop's. (A pass
    started by :meth:`committed` or :meth:`run` that catches up in a quiet moment leaves the restart, and that one
    small fdatasync, to the loop's next write.)
    """

    def __init__(self, path: Path, every_commits: int, every_seconds: float) -> None:
        self._path = path
        self._every_commits = every_commits
        self._every_seconds = every_seconds
        self._commits = 0  # since the last pass started
        self._unsettled = 0  # since the last pass that finished started
        self._wal_pages = 0  # the WAL's size at the last pass
        self._pass: asyncio.Future[tuple[int, int, int]] | None = None
        self._thread_lock = threading.Lock()  # the thread's connection: one pass at a time, then the close
        self._db: sqlite3.Connection | None = None
        self.passes = 0
        """Checkpoints finished so far (for the tests and the curious)."""

    def committed(self) -> None:
        """Count one commit (called on the loop after each); start a pass if one is due."""
        self._commits += 1
        self._unsettled += 1
        if self._commits >= self._every_commits and self._pass is None:
            # The commit is done whatever happens here: a pass that cannot start (the executor shut down at exit)
            # must not make it look failed to the caller.
            try:
                self._start()
            except RuntimeError as exc:
                log.debug("sqlite: no checkpoint of %s now (%s)", self._path.name, exc)

    def must_settle(self) -> bool:
        """Whether the next write should wait for a complete checkpoint first (see the class)."""
        return self._unsettled >= SETTLE_COMMITS or self._wal_pages >= MAX_WAL_PAGES

    async def settle(self) -> None:
        """Finish the pass in flight, then run one more and wait for it: called under the database's lock, so no
        write comes in between and the whole WAL is checkpointed."""
        for _ in range(2):
            running = self._pass if self._pass is not None else self._start(restart=True)
            with contextlib.suppress(sqlite3.Error):  # logged by _finished; the write goes on regardless
                await asyncio.shield(running)

    async def run(self) -> None:
        """Start a pass a second after a commit if none was due by then, until cancelled; then close the thread's
        connection, after the pass in flight."""
        try:
            while True:
                await asyncio.sleep(self._every_seconds)
                if self._commits and self._pass is None:
                    self._start()
        finally:
            if self._pass is not None:
                with contextlib.suppress(sqlite3.Error):
                    await asyncio.shield(self._pass)
            await asyncio.to_thread(self._close)

    def _start(self, *, restart: bool = False) -> asyncio.Future[tuple[int, int, int]]:
        self._commits = 0
        running = asyncio.get_running_loop().run_in_executor(None, self._checkpoint_in_thread, restart)
        running.add_done_callback(self._finished)
        self._pass = running
        return running

    def _finished(self, running: asyncio.Future[tuple[int, int, int]]) -> None:
        self._pass = None
        self._unsettled = self._commits  # the commits made while it ran are not in it
        exc = None if running.cancelled() else running.exception()
        if exc is not None or running.cancelled():
            log.warning("sqlite: checkpoint of %s failed (%s); trying again later", self._path.name, exc)
            return
        busy, self._wal_pages, moved = running.result()
        self.passes += 1
        log.debug(
            "sqlite checkpoint of %s: busy %d, WAL pages %d, moved %d", self._path.name, busy, self._wal_pages, moved
        )

    def _checkpoint_in_thread(self, restart: bool) -> tuple[int, int, int]:
        with self._thread_lock:
            if self._db is None:
                self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA busy_timeout=5000")
            busy, wal_pages, moved = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if restart and busy == 0 and moved == wal_pages > 0:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                self._db.execute(f"PRAGMA user_version = {(int(version) + 1) % 2**31}")
            return int(busy), int(wal_pages), int(moved)

    def _close(self) -> None:
        with self._thread_lock:
            if self._db is not None:
                self._db.close()
                self._db = None
