"""What the emulated HITL plugin remembers: sessions (upstream <-> downstream conversation) and user links.

Kept in the sandbox store beside the emulated Botpress objects. Like the real plugin, the plugin also tags
both conversations with each other's id (``hitl#upstream``/``hitl#downstream``), but it reads its own state
from here only.
"""

from __future__ import annotations

from typing import Any

from .store import Record, Store

_SESSION, _BY_DOWNSTREAM, _USER_LINK = "hitl_session", "hitl_downstream", "hitl_user_link"


class PluginMemory:
    """Sessions keyed by upstream conversation id (findable by downstream id) and upstream -> downstream users."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def session(self, upstream_conversation_id: str) -> Record | None:
        """The (latest) session of an upstream conversation."""
        return await self._store.get(_SESSION, upstream_conversation_id)

    async def session_by_downstream(self, downstream_conversation_id: str) -> Record | None:
        """The session whose downstream conversation is this one."""
        link = await self._store.get(_BY_DOWNSTREAM, downstream_conversation_id)
        return await self.session(link["upstream"]) if link else None

    async def save_session(self, session: Record) -> None:
        """Write a session (and its downstream index)."""
        await self._store.put(_SESSION, session["upstreamConversationId"], session)
        link = {"upstream": session["upstreamConversationId"]}
        await self._store.put(_BY_DOWNSTREAM, session["downstreamConversationId"], link)

    async def update_session(self, upstream_conversation_id: str, **changes: Any) -> Record | None:
        """Apply ``changes`` to a session and return it."""
        session = await self.session(upstream_conversation_id)
        if session is None:
            return None
        session.update(changes)
        await self.save_session(session)
        return session

    async def downstream_user(self, upstream_user_id: str) -> Record | None:
        """``{"downstreamUserId", "integrationAlias"}`` linked to an upstream user, if any."""
        return await self._store.get(_USER_LINK, upstream_user_id)

    async def link_user(self, upstream_user_id: str, downstream_user_id: str, integration_alias: str) -> None:
        """Remember the downstream user made for an upstream user."""
        link = {"downstreamUserId": downstream_user_id, "integrationAlias": integration_alias}
        await self._store.put(_USER_LINK, upstream_user_id, link)
