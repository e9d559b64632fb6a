"""The inbox's store: its tables on a :class:`coordination.Database`, SQLite (embedded) or PostgreSQL (shared).

Embedded, the inbox owns its own file, ``<data_dir>/inbox.sqlite3``, as it always did. On PostgreSQL it shares the
bridge's database (``HITL_BRIDGE_DATABASE_URL``) with every worker, and leaves that database open at the end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from coordination import Connection, Database, Dialect, Params, Row, SqliteDatabase

from .migrations import COMPONENT, MIGRATIONS, adopt_legacy_versions

DATABASE_NAME = "inbox.sqlite3"
__all__ = ["DATABASE_NAME", "Connection", "Row", "Store", "dumps", "loads", "new_id"]


def new_id(prefix: str) -> str:
    """A random id that says what it names, e.g. ``ses_3f2a...``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def dumps(value: Any) -> str:
    """JSON for a column."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def loads(value: str | None) -> Any:
    """A JSON column's value (``None`` stays ``None``)."""
    return None if value is None else json.loads(value)


class Store:
    """The inbox's tables on an open database. Every access goes through :meth:`transaction` or :meth:`read`."""

    def __init__(self, database: Database, *, owned: bool, path: Path | None = None) -> None:
        self.database = database
        self._owned = owned
        self.path = path
        """The database file when the inbox owns one (embedded), else ``None``."""

    @property
    def dialect(self) -> Dialect:
        """``sqlite`` or ``postgresql``: what the few dialect-specific clauses (``FOR UPDATE``) ask."""
        return self.database.dialect

    @classmethod
    async def open(cls, data_dir: Path) -> Store:
        """Open (creating if needed) the embedded database in ``data_dir`` and bring its schema up to date."""
        path = data_dir / DATABASE_NAME
        store = cls(await SqliteDatabase.open(path), owned=True, path=path)
        try:
            await store.migrate()
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    async def on(cls, database: Database) -> Store:
        """The inbox's tables on a database shared with the rest of the bridge (migrated, never closed here)."""
        store = cls(database, owned=False)
        await store.migrate()
        return store

    async def migrate(self) -> list[int]:
        """Apply the inbox's steps not applied yet; return their versions.

        A file made before the shared runner recorded its steps in ``schema_migrations``: they are adopted first,
        so an existing inbox opens with its data and only the newer steps run.
        """
        await self.database.migrate(COMPONENT, [])  # makes the runner's own table, applies nothing
        await adopt_legacy_versions(self.database)
        return await self.database.migrate(COMPONENT, MIGRATIONS)

    async def close(self) -> None:
        """Close the database if the inbox owns it (closing twice is harmless); a shared one stays open."""
        if self._owned:
            await self.database.aclose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with self.database.transaction() as db:
            yield db

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A connection for a few reads that must see one state."""
        async with self.database.read() as db:
            yield db

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of one query."""
        return await self.database.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one query, or ``None``."""
        return await self.database.fetch_one(sql, params)

    def for_update(self, *, of: str | None = None, skip_locked: bool = False) -> str:
        """The row-lock clause to end a ``SELECT`` of a read-modify-write with: on PostgreSQL, the rows (of table
        alias ``of`` in a join) stay locked until the transaction ends, and ``skip_locked`` passes over rows another
        transaction holds; on SQLite, ``BEGIN IMMEDIATE`` already holds the whole file, so it is empty."""
        if self.dialect == "sqlite":
            return ""
        return " FOR UPDATE" + (f" OF {of}" if of else "") + (" SKIP LOCKED" if skip_locked else "")
