"""Files agents attach: their bytes in the inbox's ``files`` table, served at signed, expiring public links.

The end user's browser and Botpress fetch ``/console/files/<key>?expires=<unix>&sig=<hmac>`` without a login, so the
link itself is the permission: an HMAC-SHA256 of ``<key>:<expires>`` under a key every worker shares (the
``inbox_secrets`` row ``file_links``, written once by the first worker that needs it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..signed_links import link_query, link_valid
from .store import Connection, Store

MAX_BYTES = 20 * 1024 * 1024
LINK_SECONDS = 30 * 24 * 3600
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_SECRET_NAME = "file_links"


@dataclass(frozen=True)
class StoredFile:
    """An attachment as stored."""

    key: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Upload:
    """A file an agent sends, as received."""

    filename: str
    content_type: str
    data: bytes


def media_message(stored: StoredFile, url: str) -> tuple[str, dict[str, Any]]:
    """The hitl channel's message for a file: ``image`` for the image types browsers show, else ``file``."""
    if stored.content_type in IMAGE_TYPES:
        return "image", {"imageUrl": url}
    return "file", {"fileUrl": url, "title": stored.filename}


class FileLinks:
    """Signs and checks file links; the key is read from the store once per process."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._key: bytes | None = None

    async def prime(self) -> None:
        """Read (or make) the signing key now, outside any transaction of the caller's."""
        await self._signing_key()

    async def _signing_key(self) -> bytes:
        """The shared key. Retry-safe: ``ON CONFLICT DO NOTHING`` keeps the first worker's key, and everyone reads
        the row that was kept."""
        if self._key is None:
            async with self._store.transaction() as db:
                await db.execute(
                    "INSERT INTO inbox_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (_SECRET_NAME, secrets.token_hex(32)),
                )
                row = await db.fetch_one("SELECT value FROM inbox_secrets WHERE name = ?", (_SECRET_NAME,))
            assert row is not None
            self._key = bytes.fromhex(row["value"])
        return self._key

    async def url(self, base_url: str, file_key: str, now: float) -> str:
        """The public link of a file, valid for :data:`LINK_SECONDS` from ``now``."""
        query = link_query(await self._signing_key(), file_key, int(now + LINK_SECONDS))
        return f"{base_url.rstrip('/')}/console/files/{file_key}?{query}"

    async def check(self, file_key: str, expires: str, signature: str, now: float) -> bool:
        """Whether a link's ``expires`` and ``sig`` are ours for ``file_key`` and not past."""
        return link_valid(await self._signing_key(), file_key, expires, signature, now)


async def save_file(db: Connection, stored: StoredFile, *, session_id: str, agent_id: str, now: float) -> None:
    """Store an attachment's bytes in the caller's transaction (its key is new: the caller's idempotency key check
    comes first, so a repeat stores nothing)."""
    await db.execute(
        "INSERT INTO files (key, session_id, agent_id, filename, content_type, size, data, created_at) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (stored.key, session_id, agent_id, stored.filename, stored.content_type, len(stored.data), stored.data, now),
    )


async def load_file(store: Store, file_key: str) -> StoredFile | None:
    """A stored attachment, or ``None``."""
    row = await store.fetch_one("SELECT key, filename, content_type, data FROM files WHERE key = ?", (file_key,))
    if row is None:
        return None
    return StoredFile(row["key"], row["filename"], row["content_type"], bytes(row["data"]))
