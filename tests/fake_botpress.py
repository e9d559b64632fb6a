"""A stateful in-memory Botpress Runtime API behind the contract-checked ``bp_api`` respx router.

It keeps users, conversations, messages, events and states with the API's tag semantics
(get-or-create with ``discriminateByTags``, ``tags.<k>=v`` filters), so orchestration tests can
assert on what Botpress ended up holding rather than on call counts alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

from tests.contracts.botpress import (
    BP_TEST_API_URL,
    bp_conversation,
    bp_error,
    bp_event,
    bp_id,
    bp_json,
    bp_message,
    bp_page,
    bp_state,
    bp_user,
)

Record = dict[str, Any]


def _tag_filter(request: httpx.Request) -> dict[str, str]:
    return {k[5:]: v for k, v in request.url.params.items() if k.startswith("tags.")}


def _matches(item: Record, tags: dict[str, str]) -> bool:
    return all(item["tags"].get(k) == v for k, v in tags.items())


def _merge_tags(current: dict[str, str], update: dict[str, str]) -> dict[str, str]:
    merged = {**current, **update}
    return {k: v for k, v in merged.items() if v != ""}


@dataclass
class FakeBotpress:
    """What the fake Botpress holds."""

    users: dict[str, Record] = field(default_factory=dict)
    conversations: dict[str, Record] = field(default_factory=dict)
    messages: dict[str, Record] = field(default_factory=dict)
    events: list[Record] = field(default_factory=list)
    states: dict[tuple[str, str, str], Record] = field(default_factory=dict)

    def install(self, router: respx.MockRouter) -> FakeBotpress:
        """Route every Runtime API path the integration uses to this fake."""
        host = httpx.URL(BP_TEST_API_URL).host
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("POST", r"/users/get-or-create$", self._get_or_create_user),
            ("POST", r"/users$", self._create_user),
            ("GET", r"/users$", self._list_users),
            ("GET", r"/users/(?P<id>[^/]+)$", self._get_user),
            ("PUT", r"/users/(?P<id>[^/]+)$", self._update_user),
            ("POST", r"/conversations/get-or-create$", self._get_or_create_conversation),
            ("GET", r"/conversations$", self._list_conversations),
            ("GET", r"/conversations/(?P<id>[^/]+)$", self._get_conversation),
            ("POST", r"/messages/get-or-create$", self._get_or_create_message),
            ("POST", r"/messages$", self._create_message),
            ("GET", r"/messages$", self._list_messages),
            ("PUT", r"/messages/(?P<id>[^/]+)$", self._update_message),
            ("POST", r"/events$", self._create_event),
            ("GET", r"/events$", self._list_events),
            ("GET", r"/states/(?P<type>[^/]+)/(?P<id>[^/]+)/(?P<name>[^/]+)$", self._get_state),
            ("POST", r"/states/(?P<type>[^/]+)/(?P<id>[^/]+)/(?P<name>[^/]+)$", self._set_state),
            ("POST", r"/states/(?P<type>[^/]+)/(?P<id>[^/]+)/(?P<name>[^/]+)/get-or-set$", self._get_or_set_state),
        ]
        for method, path, handler in routes:
            router.route(method=method, host=host, path__regex=r"^/v1/chat" + path).mock(side_effect=handler)
        return self

    # users
    def _create_user(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        user = bp_user(tags=body["tags"], name=body.get("name"), picture_url=body.get("pictureUrl"))
        self.users[user["id"]] = user
        return bp_json({"user": user}, 201)

    def _get_or_create_user(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys if k in body["tags"]}
        for user in self.users.values():
            if wanted and _matches(user, wanted):
                return bp_json({"user": user})
        user = bp_user(tags=body["tags"], name=body.get("name"), picture_url=body.get("pictureUrl"))
        self.users[user["id"]] = user
        return bp_json({"user": user})

    def _get_user(self, request: httpx.Request, id: str) -> httpx.Response:
        if id not in self.users:
            return bp_error("ResourceNotFound", f"User {id} not found")
        return bp_json({"user": self.users[id]})

    def _update_user(self, request: httpx.Request, id: str) -> httpx.Response:
        if id not in self.users:
            return bp_error("ResourceNotFound", f"User {id} not found")
        body, user = json.loads(request.content), self.users[id]
        user["tags"] = _merge_tags(user["tags"], body.get("tags") or {})
        for key in ("name", "pictureUrl"):
            if key in body:
                user[key] = body[key]
        return bp_json({"user": user})

    def _list_users(self, request: httpx.Request) -> httpx.Response:
        tags = _tag_filter(request)
        return bp_page("users", [u for u in self.users.values() if _matches(u, tags)])

    # conversations
    def _get_or_create_conversation(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys}
        for conversation in self.conversations.values():
            if conversation["channel"] == body["channel"] and _matches(conversation, wanted):
                return bp_json({"conversation": conversation})
        conversation = bp_conversation(channel=body["channel"], tags=body["tags"])
        self.conversations[conversation["id"]] = conversation
        return bp_json({"conversation": conversation})

    def _get_conversation(self, request: httpx.Request, id: str) -> httpx.Response:
        if id not in self.conversations:
            return bp_error("ResourceNotFound", f"Conversation {id} not found")
        return bp_json({"conversation": self.conversations[id]})

    def _list_conversations(self, request: httpx.Request) -> httpx.Response:
        tags, channel = _tag_filter(request), request.url.params.get("channel")
        found = [c for c in self.conversations.values() if _matches(c, tags) and channel in (None, c["channel"])]
        return bp_page("conversations", found)

    # messages
    def _new_message(self, body: Record) -> Record:
        message = bp_message(
            conversation_id=body["conversationId"],
            user_id=body["userId"],
            type=body["type"],
            payload=body["payload"],
            tags=body["tags"],
        )
        self.messages[message["id"]] = message
        return message

    def _create_message(self, request: httpx.Request) -> httpx.Response:
        return bp_json({"message": self._new_message(json.loads(request.content))}, 201)

    def _get_or_create_message(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys}
        for message in self.messages.values():
            if message["conversationId"] == body["conversationId"] and wanted and _matches(message, wanted):
                return bp_json({"message": message})
        return bp_json({"message": self._new_message(body)})

    def _list_messages(self, request: httpx.Request) -> httpx.Response:
        tags, conversation_id = _tag_filter(request), request.url.params.get("conversationId")
        found = [
            m for m in self.messages.values() if _matches(m, tags) and conversation_id in (None, m["conversationId"])
        ]
        return bp_page("messages", found)

    def _update_message(self, request: httpx.Request, id: str) -> httpx.Response:
        if id not in self.messages:
            return bp_error("ResourceNotFound", f"Message {id} not found")
        message = self.messages[id]
        message["tags"] = _merge_tags(message["tags"], json.loads(request.content)["tags"])
        return bp_json({"message": message})

    # events and states
    def _create_event(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        event = bp_event(type=body["type"], payload=body["payload"], conversation_id=body.get("conversationId"))
        self.events.append(event)
        return bp_json({"event": event}, 201)

    def _list_events(self, request: httpx.Request) -> httpx.Response:
        wanted = {k: v for k, v in request.url.params.items() if k in ("type", "conversationId")}
        return bp_page("events", [e for e in self.events if all(e.get(k) == v for k, v in wanted.items())])

    def _get_state(self, request: httpx.Request, type: str, id: str, name: str) -> httpx.Response:
        state = self.states.get((type, id, name))
        if state is None:
            return bp_error("ResourceNotFound", f"State {name} not found")
        return bp_json({"state": state, "meta": {"cached": False}})

    def _set_state(self, request: httpx.Request, type: str, id: str, name: str) -> httpx.Response:
        payload = json.loads(request.content)["payload"]
        state = bp_state(type, id, name, payload or {})
        self.states[(type, id, name)] = state
        return bp_json({"state": state})

    def _get_or_set_state(self, request: httpx.Request, type: str, id: str, name: str) -> httpx.Response:
        state = self.states.get((type, id, name))
        if state is None:  # set only when unset, atomically (the fake runs one request at a time)
            state = self.states[(type, id, name)] = bp_state(type, id, name, json.loads(request.content)["payload"])
        return bp_json({"state": state, "meta": {"cached": False}})

    def seed_bot_message(self, body: Record) -> None:
        """Hold the bot-written message a ``message_created`` body describes, as the runtime would."""
        message = dict(body["message"])
        self.messages[message["id"]] = message

    # helpers for assertions
    def messages_in(self, bp_conversation_id: str) -> list[Record]:
        """Messages of one conversation, oldest first."""
        return [m for m in self.messages.values() if m["conversationId"] == bp_conversation_id]

    def event_types(self) -> list[str]:
        """Types of every event created, in order."""
        return [e["type"] for e in self.events]


def new_bot_user_id() -> str:
    """A bot user id, as the runtime would send in ``x-bot-user-id``."""
    return bp_id("user")
