"""The embedded coordinator's memo, kept in memory in front of its table: exact, because one process owns it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MEMO_CACHE_SIZE = 10_000
"""Memo keys kept in memory at most; the least recently used one goes first."""


@dataclass(frozen=True)
class Known:
    """What the table holds for a key: its value and when it expires, or ``value`` ``None`` for no row at all."""

    value: str | None
    expires_at: float


ABSENT = Known(None, float("inf"))
"""No row: it stays so until this process writes one (nobody else writes the embedded table)."""


class MemoCache:
    """A bounded LRU of :class:`Known` entries, write-through: it is told each row after the row is written.

    Only one process writes the embedded backend's table (a lock on the data folder), so what this process last
    wrote or read is what the table holds; expiry is checked on every read as the SQL does (``expires_at > now``).
    """

    def __init__(self, size: int = MEMO_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, Known] = OrderedDict()

    def get(self, key: str) -> Known | None:
        """What is known of ``key``, or ``None`` if it must be read from the table."""
        known = self._entries.get(key)
        if known is not None:
            self._entries.move_to_end(key)
        return known

    def put(self, key: str, known: Known) -> None:
        """Remember what the table holds for ``key`` (after reading or writing it)."""
        self._entries[key] = known
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        """Drop ``key``: the next read goes to the table (after a write whose outcome is unknown)."""
        self._entries.pop(key, None)

    def expire(self, cutoff: float) -> None:
        """Drop what a purge with this cutoff deleted from the table (rows expired before it)."""
        for key in [key for key, known in self._entries.items() if known.expires_at < cutoff]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
