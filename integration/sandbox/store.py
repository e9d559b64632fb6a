"""Where the emulated Botpress keeps its objects: in memory, or in one SQLite file.

Records are JSON objects grouped by ``kind`` (``user``, ``conversation``, ``message``, ``event``, ``state``...)
and keyed by id. ``all`` returns a kind's records in insertion order; replacing a record keeps its place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

Record = dict[str, Any]


class Store(Protocol):
    """The storage the emulator needs: a keyed, ordered bag of JSON records per kind."""

    async def get(self, kind: str, key: str) -> Record | None:
        """The record, or ``None``."""
        ...

    async def put(self, kind: str, key: str, record: Record) -> None:
        """Insert or replace (in place) the record."""
        ...

    async def delete(self, kind: str, key: str) -> bool:
        """Remove the record; whether it existed."""
        ...

    async def all(self, kind: str) -> list[Record]:
        """Every record of ``kind``, oldest insertion first."""
        ...

    async def close(self) -> None:
        """Release the storage."""
        ...


def _copy(record: Record) -> Record:
    copied: Record = json.loads(json.dumps(record))
    return copied


class MemoryStore:
    """Records in dictionaries; gone when the process ends. Copies in and out so callers never share state."""

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, Record]] = {}

    async def get(self, kind: str, key: str) -> Record | None:
        record = self._kinds.get(kind, {}).get(key)
        return _copy(record) if record is not None else None

    async def put(self, kind: str, key: str, record: Record) -> None:
        self._kinds.setdefault(kind, {})[key] = _copy(record)

    async def delete(self, kind: str, key: str) -> bool:
        return self._kinds.get(kind, {}).pop(key, None) is not None

    async def all(self, kind: str) -> list[Record]:
        return [_copy(record) for record in self._kinds.get(kind, {}).values()]

    async def close(self) -> None:
        self._kinds.clear()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, key)
)
"""


class SqliteStore:
    """Records in one SQLite table, so the sandbox survives a restart."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute(_SCHEMA)
        await connection.commit()
        return cls(connection)

    async def get(self, kind: str, key: str) -> Record | None:
        async with self._db.execute("SELECT body FROM records WHERE kind = ? AND key = ?", (kind, key)) as cursor:
            row = await cursor.fetchone()
        return _loads(row[0]) if row else None

    async def put(self, kind: str, key: str, record: Record) -> None:
        await self._db.execute(
            "INSERT INTO records (kind, key, body) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
            (kind, key, json.dumps(record)),
        )
        await self._db.commit()

    async def delete(self, kind: str, key: str) -> bool:
        cursor = await self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
        await self._db.commit()
        return cursor.rowcount > 0

    async def all(self, kind: str) -> list[Record]:
        async with self._db.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq", (kind,)) as cursor:
            rows = await cursor.fetchall()
        return [_loads(row[0]) for row in rows]

    async def close(self) -> None:
        await self._db.close()


def _loads(body: str) -> Record:
    record: Record = json.loads(body)
    return record


async def open_store(persist_path: Path | None) -> Store:
    """A SQLite store at ``persist_path``, or a memory store when it is ``None``."""
    if persist_path is None:
        return MemoryStore()
    return await SqliteStore.open(persist_path)
