"""Live feed of the chat page: each new message of an upstream conversation, as the page shows it."""

from __future__ import annotations

import asyncio
from typing import Any

from .runtime_api import Botpress
from .store import Record

CLOSED: dict[str, Any] = {"closed": True}


class ChatFeed:
    """Listener fanning new messages out to the pages watching their conversation."""

    def __init__(self, botpress: Botpress) -> None:
        self._bp = botpress
        self._watchers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def watch(self, conversation_id: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving the conversation's new messages (views), until :meth:`unwatch`."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._watchers.setdefault(conversation_id, set()).add(queue)
        return queue

    def unwatch(self, conversation_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding ``queue``."""
        self._watchers.get(conversation_id, set()).discard(queue)

    def watching(self, conversation_id: str) -> int:
        """How many open pages watch the conversation."""
        return len(self._watchers.get(conversation_id, ()))

    def close_all(self) -> None:
        """Tell every open page stream to end (server shutdown)."""
        for queues in self._watchers.values():
            for queue in queues:
                queue.put_nowait(CLOSED)

    async def message_created(self, message: Record, conversation: Record, by_integration: bool) -> None:
        """Listener: push the message to the conversation's watchers."""
        queues = self._watchers.get(conversation["id"])
        if queues:
            view = await self.view(message)
            for queue in queues:
                queue.put_nowait(view)

    async def event_created(self, event: Record, by_integration: bool) -> None:
        """Listener: events are not shown."""

    async def view(self, message: Record) -> dict[str, Any]:
        """What the page needs: who wrote it (``user``, ``bot`` or ``agent`` with a name), the type and payload."""
        sender, name = "bot", "Bot"
        if message["direction"] == "incoming":
            sender, name = "user", "You"
        elif "downstream" in message.get("tags", {}):
            sender, name = "agent", await self._agent_name(message["tags"]["downstream"])
        return {
            "id": message["id"],
            "createdAt": message["createdAt"],
            "from": sender,
            "name": name,
            "type": message["type"],
            "payload": message["payload"],
        }

    async def _agent_name(self, downstream_message_id: str) -> str:
        original = await self._bp.messages.find(downstream_message_id)
        agent = await self._bp.users.find(original["userId"]) if original else None
        return str((agent or {}).get("name") or "Agent")
