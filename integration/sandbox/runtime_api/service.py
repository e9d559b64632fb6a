"""The emulated Botpress core: users, conversations, messages and events, and who gets told about new ones.

HTTP handlers (``routes.py``) and the in-process bot and plugin both go through this class, so the sandbox's
own side and the integration see one consistent store. Messages and events are announced to listeners.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..store import Record, Store
from .definition import IntegrationDefinition
from .records import Collection, clean_tags, discriminating_tags, merge_tags, public
from .states import States

log = logging.getLogger(__name__)

Direction = Literal["incoming", "outgoing"]


@dataclass(frozen=True)
class Identity:
    """Who is who in the sandbox: the one bot, its bot user, and the one installed integration."""

    bot_id: str
    bot_user_id: str
    integration_id: str
    integration_alias: str
    webhook_id: str


class Listener(Protocol):
    """Told about every new message and event (the runtime, the plugin, the chat page)."""

    async def message_created(self, message: Record, conversation: Record, by_integration: bool) -> None:
        """A message was stored."""

    async def event_created(self, event: Record, by_integration: bool) -> None:
        """An event was stored."""


class Botpress:
    """The objects an integration and a bot share, with the API's rules."""

    def __init__(self, store: Store, identity: Identity, definition: IntegrationDefinition) -> None:
        self.identity = identity
        self.definition = definition
        self.users = Collection(store, "user", "user", "User")
        self.conversations = Collection(store, "conversation", "conv", "Conversation")
        self.messages = Collection(store, "message", "msg", "Message")
        self.events = Collection(store, "event", "evt", "Event")
        self.states = States(store, identity.bot_id)
        self._create_lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Tell ``listener`` about new messages and events from now on."""
        self._listeners.append(listener)

    # Users

    async def create_user(
        self,
        tags: Mapping[str, str],
        name: str | None = None,
        picture_url: str | None = None,
        *,
        ident: str | None = None,
    ) -> Record:
        """A new user."""
        return await self.users.insert({"tags": clean_tags(tags), "name": name, "pictureUrl": picture_url}, ident=ident)

    async def get_or_create_user(
        self, tags: Mapping[str, str], name: str | None, picture_url: str | None, discriminate_by: list[str] | None
    ) -> Record:
        """The first user whose discriminating tags match, else a new one."""
        wanted = discriminating_tags(tags, discriminate_by)
        async with self._create_lock:
            found = await self.users.select({}, wanted) if wanted else []
            return found[0] if found else await self.create_user(tags, name, picture_url)

    async def update_user(self, ident: str, changes: Mapping[str, Any]) -> Record:
        """Apply ``changes`` (``tags`` merged, ``name``/``pictureUrl`` replaced, ``None`` unsets)."""
        user = await self.users.get(ident)
        if "tags" in changes and changes["tags"] is not None:
            user["tags"] = merge_tags(user["tags"], changes["tags"])
        for field in ("name", "pictureUrl"):
            if field in changes:
                user[field] = changes[field]
        return await self.users.save(user)

    async def conversation_user_ids(self, conversation_id: str) -> list[str]:
        """Ids of the users taking part in a conversation (authors of its messages)."""
        conversation = await self.conversations.get(conversation_id)
        return list(conversation.get("_participants", []))

    # Conversations

    async def create_conversation(self, channel: str, tags: Mapping[str, str], integration: str) -> Record:
        """A new conversation on ``channel`` of ``integration``."""
        fields = {"channel": channel, "integration": integration, "tags": clean_tags(tags), "_participants": []}
        return await self.conversations.insert(fields)

    async def get_or_create_conversation(
        self, channel: str, tags: Mapping[str, str], integration: str, discriminate_by: list[str] | None
    ) -> Record:
        """The first conversation of that channel and integration whose discriminating tags match, else a new one."""
        wanted = discriminating_tags(tags, discriminate_by)
        async with self._create_lock:
            where = {"channel": channel, "integration": integration}
            found = await self.conversations.select(where, wanted) if wanted else []
            return found[0] if found else await self.create_conversation(channel, tags, integration)

    async def update_conversation(self, ident: str, tags: Mapping[str, str] | None) -> Record:
        """Merge ``tags`` into the conversation's."""
        conversation = await self.conversations.get(ident)
        if tags is not None:
            conversation["tags"] = merge_tags(conversation["tags"], tags)
        return await self.conversations.save(conversation)

    # Messages

    async def create_message(
        self,
        conversation_id: str,
        user_id: str,
        type: str,
        payload: dict[str, Any],
        tags: Mapping[str, str],
        *,
        by_integration: bool,
        origin: str | None = None,
    ) -> Record:
        """Store a message (``incoming`` when the integration writes it, ``outgoing`` when the bot does)."""
        conversation, _ = await self._check_message(conversation_id, user_id, type, payload, by_integration)
        message = await self.messages.insert(
            {
                "type": type,
                "payload": payload,
                "direction": "incoming" if by_integration else "outgoing",
                "userId": user_id,
                "conversationId": conversation_id,
                "tags": clean_tags(tags),
                "origin": origin,
            }
        )
        conversation = await self._add_participant(conversation, user_id)
        await self._announce_message(message, conversation, by_integration)
        return message

    async def get_or_create_message(
        self,
        conversation_id: str,
        user_id: str,
        type: str,
        payload: dict[str, Any],
        tags: Mapping[str, str],
        discriminate_by: list[str] | None,
        *,
        by_integration: bool,
    ) -> Record:
        """The first message of the conversation whose discriminating tags match, else a new one."""
        wanted = discriminating_tags(tags, discriminate_by)
        async with self._create_lock:
            found = await self.messages.select({"conversationId": conversation_id}, wanted) if wanted else []
            if found:
                return found[0]
        return await self.create_message(conversation_id, user_id, type, payload, tags, by_integration=by_integration)

    async def update_message(self, ident: str, tags: Mapping[str, str], payload: dict[str, Any] | None) -> Record:
        """Merge ``tags`` (the integration's ``ack``) and replace the payload if one is given."""
        message = await self.messages.get(ident)
        message["tags"] = merge_tags(message["tags"], tags)
        if payload is not None:
            message["payload"] = payload
        return await self.messages.save(message)

    async def _check_message(
        self, conversation_id: str, user_id: str, type: str, payload: dict[str, Any], by_integration: bool
    ) -> tuple[Record, Record]:
        conversation = await self.conversations.get(conversation_id)
        user = await self.users.get(user_id)
        if by_integration:
            self.definition.check_message(conversation, type, payload)
        return conversation, user

    async def _add_participant(self, conversation: Record, user_id: str) -> Record:
        if user_id in conversation.setdefault("_participants", []):
            return conversation
        conversation["_participants"].append(user_id)
        return await self.conversations.save(conversation, touch=False)

    async def _announce_message(self, message: Record, conversation: Record, by_integration: bool) -> None:
        for listener in self._listeners:
            try:
                await listener.message_created(public(message), public(conversation), by_integration)
            except Exception:
                log.exception("sandbox: a listener failed on message %s", message["id"])

    # Events

    async def create_event(
        self, type: str, payload: dict[str, Any], refs: Mapping[str, str | None], *, by_integration: bool
    ) -> Record:
        """Store an event (checked against the integration's definition when it emits it) and announce it."""
        if by_integration:
            self.definition.check_event(type, payload)
        await self._check_references(refs)
        fields = {"type": type, "payload": payload, **refs, "status": "pending", "failureReason": None}
        event = await self.events.insert({key: value for key, value in fields.items() if key != "workflowId"})
        event.pop("updatedAt", None)
        await self.events.save(event, touch=False)
        for listener in self._listeners:
            try:
                await listener.event_created(public(event), by_integration)
            except Exception:
                log.exception("sandbox: a listener failed on event %s", event["id"])
        return event

    async def set_event_status(self, ident: str, status: str, reason: str | None = None) -> None:
        """Record how the bot side dealt with an event (``processed``, ``ignored``, ``failed``)."""
        event = await self.events.get(ident)
        event["status"], event["failureReason"] = status, reason
        await self.events.save(event, touch=False)

    async def _check_references(self, refs: Mapping[str, str | None]) -> None:
        checks = (("conversationId", self.conversations), ("userId", self.users), ("messageId", self.messages))
        for field, collection in checks:
            if refs.get(field):
                await collection.get(str(refs[field]))
