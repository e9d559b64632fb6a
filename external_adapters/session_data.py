"""Per-session adapter data in the coordination store (:class:`~external_adapters.base.SessionDataStore`).

Each record is one memo entry, changed under a lock of its key that every worker shares; the memo is durable and
shared, and a record lives a year from its last change (a session far older than that is long closed).
"""

from __future__ import annotations

from pydantic import JsonValue, TypeAdapter

from coordination import Coordinator

from .base import Installation, SessionDataChange

__all__ = ["CoordinatorSessionData"]

_RECORD = TypeAdapter(dict[str, JsonValue])
_KEEP_SECONDS = 366 * 24 * 3600.0
_DROPPED = -1.0
"""A dropped record is written expired: every ``memo_get`` answers ``None`` at once, and the purge deletes the row."""


class CoordinatorSessionData:
    """One installation's session records: ``adapter-session:<integration id>:<helpdesk session id>``."""

    def __init__(self, coordinator: Coordinator, installation: Installation) -> None:
        self._coordinator = coordinator
        self._prefix = f"adapter-session:{installation.integration_id}:"

    async def get(self, external_session_id: str) -> dict[str, JsonValue] | None:
        """The session's data, or ``None`` when there is none."""
        raw = await self._coordinator.memo_get(self._prefix + external_session_id)
        return _RECORD.validate_json(raw) if raw else None

    async def update(self, external_session_id: str, change: SessionDataChange) -> dict[str, JsonValue] | None:
        """Read, change and write the record under its lock: atomic across workers. Retry-safe: a repeat after a
        lost answer applies ``change`` to what the first one stored (so ``change`` must be idempotent)."""
        key = self._prefix + external_session_id
        async with self._coordinator.lock(key):
            raw = await self._coordinator.memo_get(key)
            updated = change(_RECORD.validate_json(raw) if raw else None)
            if updated is None:
                await self._coordinator.memo_set(key, "", _DROPPED)
                return None
            await self._coordinator.memo_set(key, _RECORD.dump_json(updated).decode(), _KEEP_SECONDS)
            return updated
