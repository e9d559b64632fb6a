"""States: ``/v1/chat/states/{type}/{id}/{name}``, with expiry."""

from __future__ import annotations

from typing import Any

from ..ids import new_id, now_iso, now_millis
from ..store import Record, Store
from .errors import ApiError

STATE_TYPES = ("conversation", "user", "bot", "integration", "task", "workflow")


class States:
    """Named JSON payloads attached to a conversation, user, bot, integration, task or workflow."""

    def __init__(self, store: Store, bot_id: str) -> None:
        self._store = store
        self._bot_id = bot_id

    async def get(self, type: str, ident: str, name: str) -> Record:
        """The live state, or 404 ``ResourceNotFound`` (missing or expired)."""
        state = await self.find(type, ident, name)
        if state is None:
            raise ApiError("ResourceNotFound", f"No state {name!r} of type {type!r} for id {ident!r}")
        return state

    async def find(self, type: str, ident: str, name: str) -> Record | None:
        """The live state, or ``None``; an expired state is removed when found."""
        key = _key(type, ident, name)
        state = await self._store.get("state", key)
        if state is not None and state.get("_expiresAt") is not None and state["_expiresAt"] <= now_millis():
            await self._store.delete("state", key)
            return None
        return state

    async def set(
        self, type: str, ident: str, name: str, payload: dict[str, Any] | None, expiry_ms: float | None
    ) -> Record:
        """Replace the payload (``None`` clears the state; the answer then shows an empty payload)."""
        current = await self.find(type, ident, name)
        state = current or self._new(type, ident, name)
        state["payload"] = payload if payload is not None else {}
        state["updatedAt"] = now_iso()
        state["_expiresAt"] = now_millis() + int(expiry_ms) if expiry_ms else None
        if payload is None:
            await self._store.delete("state", _key(type, ident, name))
        else:
            await self._store.put("state", _key(type, ident, name), state)
        return state

    async def get_or_set(
        self, type: str, ident: str, name: str, payload: dict[str, Any], expiry_ms: float | None
    ) -> Record:
        """The live state, else a new one with ``payload``."""
        current = await self.find(type, ident, name)
        return current if current is not None else await self.set(type, ident, name, payload, expiry_ms)

    async def patch(self, type: str, ident: str, name: str, payload: dict[str, Any]) -> Record:
        """Shallow-merge ``payload`` into the live state's, or 404."""
        state = await self.get(type, ident, name)
        state["payload"] = {**state["payload"], **payload}
        state["updatedAt"] = now_iso()
        await self._store.put("state", _key(type, ident, name), state)
        return state

    def _new(self, type: str, ident: str, name: str) -> Record:
        stamp = now_iso()
        state: Record = {
            "id": new_id("state"),
            "createdAt": stamp,
            "updatedAt": stamp,
            "botId": self._bot_id,
            "name": name,
            "type": type,
            "payload": {},
        }
        if type == "conversation":
            state["conversationId"] = ident
        elif type == "user":
            state["userId"] = ident
        return state


def _key(type: str, ident: str, name: str) -> str:
    return f"{type}/{ident}/{name}"
