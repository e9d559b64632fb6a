"""Agents' Slack files, re-served to the end user at signed, expiring URLs that need no Slack login.

A file an agent shares in a thread lives at a ``files.slack.com`` URL that only a bearer of the bot token may
read. The bridge downloads it while it parses the event (scope ``files:read``), keeps the bytes in its own table,
and hands the end user ``<public_url>/slack/files/<file key>?expires=<unix>&sig=<hmac>``: no token in it, and
worthless after ``expires``. The HMAC key is generated once and kept in the same database, so every worker signs
and checks with the same key. Tables: ``slack_files`` and ``slack_signing_key`` (component ``slack``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coordination import Database, Migration, SqliteDatabase

from ..errors import AdapterConfigError
from ..signed_links import link_query, link_valid

COMPONENT = "slack"
DATABASE_NAME = "slack.sqlite3"
MAX_FILE_BYTES = 20 * 1024 * 1024
"""Default size cap of one agent file (option ``maxFileBytes``): a larger one reaches the end user as a notice."""
FILE_LIFETIME_SECONDS = 30 * 24 * 3600
"""Default lifetime of a file's URL, and of its stored copy (option ``fileLifetimeDays``)."""
MIGRATIONS = [
    Migration(
        1,
        "agent files and the URL signing key",
        sqlite="CREATE TABLE slack_files (file_key TEXT PRIMARY KEY, name TEXT NOT NULL, content_type TEXT NOT NULL,"
        " content BLOB NOT NULL, created_at REAL NOT NULL);"
        "CREATE TABLE slack_signing_key (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)",
        postgresql="CREATE TABLE slack_files (file_key TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " content_type TEXT NOT NULL, content BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL);"
        "CREATE TABLE slack_signing_key (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)",
    )
]


class FileOptions(BaseModel):
    """Process options of the Slack adapter's files (``HITL_BRIDGE_ADAPTER_OPTIONS__SLACK__<OPTION>``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    file_lifetime_days: float = Field(default=FILE_LIFETIME_SECONDS / 86400, gt=0, le=3650)
    max_file_bytes: int = Field(default=MAX_FILE_BYTES, gt=0)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> FileOptions:
        """Validate the options. Raises :class:`AdapterConfigError` naming the field."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            where = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise AdapterConfigError(f"adapter_options.slack.{where}", exc.errors()[0]["msg"]) from None


@dataclass(frozen=True)
class StoredFile:
    """One re-served file."""

    name: str
    content_type: str
    content: bytes


class FileStore:
    """The ``slack_files`` table and the signing key, on the shared database or the adapter's own SQLite file."""

    def __init__(self, database: Database, secret: bytes, *, owned: bool, lifetime: float) -> None:
        self.database = database
        self._secret = secret
        self._owned = owned
        self.lifetime = lifetime

    @classmethod
    async def open(
        cls, database: Database | None, data_dir: Path, lifetime: float = FILE_LIFETIME_SECONDS
    ) -> FileStore:
        """Migrate ``database`` (or open ``data_dir/slack.sqlite3`` when ``None``) and load the signing key."""
        owned = database is None
        db = database if database is not None else await SqliteDatabase.open(data_dir / DATABASE_NAME)
        try:
            await db.migrate(COMPONENT, MIGRATIONS)
            return cls(db, await _signing_key(db), owned=owned, lifetime=lifetime)
        except BaseException:
            if owned:
                await db.aclose()
            raise

    async def aclose(self) -> None:
        """Close the database when the store opened it; a shared one stays open."""
        if self._owned:
            await self.database.aclose()

    async def put(self, file_key: str, stored: StoredFile, now: float) -> None:
        """Keep a file under ``file_key``. Retry-safe: a second put of the key keeps the first copy (same file)."""
        await self.database.execute(
            "INSERT INTO slack_files (file_key, name, content_type, content, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (file_key) DO NOTHING",
            (file_key, stored.name, stored.content_type, stored.content, now),
        )

    async def get(self, file_key: str) -> StoredFile | None:
        """The file kept under ``file_key``, or ``None``."""
        row = await self.database.fetch_one(
            "SELECT name, content_type, content FROM slack_files WHERE file_key = ?", (file_key,)
        )
        if row is None:
            return None
        return StoredFile(name=row["name"], content_type=row["content_type"], content=bytes(row["content"]))

    async def purge(self, now: float) -> int:
        """Drop the files whose URLs have all expired. Retry-safe: a repeat finds nothing more to drop."""
        return await self.database.execute("DELETE FROM slack_files WHERE created_at < ?", (now - self.lifetime,))

    def signed_url(self, public_url: str, file_key: str, now: float) -> str:
        """The file's URL for the end user: valid for the store's lifetime from ``now``."""
        query = link_query(self._secret, file_key, int(now + self.lifetime))
        return f"{public_url.rstrip('/')}/slack/files/{file_key}?{query}"

    def check(self, file_key: str, expires: str, signature: str, now: float) -> bool:
        """Whether a URL's ``expires`` and ``sig`` are ours for ``file_key`` and not past."""
        return link_valid(self._secret, file_key, expires, signature, now)


async def _signing_key(database: Database) -> bytes:
    """The shared key: the first worker to start writes one; everyone reads the one that was kept (retry-safe)."""
    await database.execute(
        "INSERT INTO slack_signing_key (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING", (secrets.token_hex(32),)
    )
    row = await database.fetch_one("SELECT secret FROM slack_signing_key WHERE id = 1")
    assert row is not None  # written just above
    return bytes.fromhex(row["secret"])


@asynccontextmanager
async def open_files(database: Database | None, data_dir: Path, options: FileOptions) -> AsyncIterator[FileStore]:
    """The adapter's file store for the process (its lifespan): expired files are dropped at start."""
    store = await FileStore.open(database, data_dir, options.file_lifetime_days * 86400)
    try:
        await store.purge(now())
        yield store
    finally:
        await store.aclose()


def file_key(integration_id: str, slack_file_id: str) -> str:
    """The key of one Slack file of one installation: the same on a redelivery, unguessable without the ids."""
    return hashlib.sha256(f"{integration_id}:{slack_file_id}".encode()).hexdigest()[:40]


def now() -> float:
    """The wall clock (a function so tests can pass another)."""
    return time.time()
