"""A thin typed client of the Botpress Runtime API: one method per endpoint, no business rules.

Every call carries the SDK's headers (``Authorization: Bearer``, ``x-bot-id``, ``x-integration-id``,
``x-integration-alias``, and the W3C trace headers when given) and follows the SDK's retry rules
(:func:`external_adapters.http_retry.send_with_retries`). Non-2xx answers raise the typed
:class:`~integration.botpress.errors.BotpressApiError`; no answer at all raises
:class:`~integration.botpress.errors.BotpressUnavailableError`. Reads of a missing resource return ``None``.

Every write says whether it is idempotent (a get-or-create, a set, a PUT) or not (a create). One that is not is
repeated only when its request surely never reached Botpress; after a lost answer it raises
:class:`~integration.botpress.errors.BotpressOutcomeUnknownError`, except ``create_event``, which checks first
(see docs/writes.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from external_adapters.http_retry import RetryPolicy, write_checked
from integration.botpress._shapes import (
    ModelT,
    dict_or_none,
    list_or_none,
    message_body,
    next_token,
    outcome_unknown,
    parse,
    parse_list,
)
from integration.botpress._transport import JsonObject, Transport, build_headers, compact, path_of
from integration.botpress.errors import ResourceNotFoundError
from integration.botpress.models import Conversation, Event, Message, State, StateType, User

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 50
DEFAULT_RETRY = RetryPolicy()


class BotpressClient:
    """Calls the Runtime API as one integration installed in one bot."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: SecretStr | None,
        bot_id: str,
        integration_id: str,
        integration_alias: str,
        trace_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        headers = build_headers(
            token=token,
            bot_id=bot_id,
            integration_id=integration_id,
            integration_alias=integration_alias,
            trace_headers=trace_headers,
        )
        secrets = (token.get_secret_value(),) if token is not None else ()
        self._transport = Transport(http, base_url=base_url, headers=headers, secrets=secrets, retry=retry, sleep=sleep)
        self.bot_id = bot_id
        self.integration_id = integration_id
        self.integration_alias = integration_alias

    # users

    async def get_user(self, user_id: str) -> User | None:
        """The user, or ``None`` when it does not exist."""
        return await self._get_or_none(path_of("users", user_id), "user", User)

    async def create_user(
        self, *, tags: Mapping[str, str], name: str | None = None, picture_url: str | None = None
    ) -> User:
        """Create a user. Not idempotent: not repeated after a lost answer (prefer :meth:`get_or_create_user`)."""
        body = compact(tags=dict(tags), name=name, pictureUrl=picture_url)
        return await self._one("POST", path_of("users"), "user", User, body=body)

    async def get_or_create_user(
        self,
        *,
        tags: Mapping[str, str],
        name: str | None = None,
        picture_url: str | None = None,
        discriminate_by_tags: Sequence[str] | None = None,
    ) -> User:
        """The user matching ``discriminate_by_tags`` (all tags when ``None``), created when missing. Idempotent."""
        body = compact(
            tags=dict(tags), name=name, pictureUrl=picture_url, discriminateByTags=list_or_none(discriminate_by_tags)
        )
        return await self._one("POST", path_of("users", "get-or-create"), "user", User, body=body, idempotent=True)

    async def update_user(
        self,
        user_id: str,
        *,
        tags: Mapping[str, str] | None = None,
        name: str | None = None,
        picture_url: str | None = None,
    ) -> User:
        """Update the given fields only (an empty tag value unsets that tag). Idempotent (PUT)."""
        body = compact(tags=dict_or_none(tags), name=name, pictureUrl=picture_url)
        return await self._one("PUT", path_of("users", user_id), "user", User, body=body)

    async def list_users(
        self,
        *,
        tags: Mapping[str, str] | None = None,
        conversation_id: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[User]:
        """Every user matching the filters, following ``nextToken`` for at most ``max_pages`` pages."""
        query = {"tags": dict_or_none(tags), "conversationId": conversation_id}
        return await self._list(path_of("users"), "users", User, query, max_pages)

    # conversations

    async def get_or_create_conversation(
        self, *, channel: str, tags: Mapping[str, str], discriminate_by_tags: Sequence[str] | None = None
    ) -> Conversation:
        """The conversation on ``channel`` matching the tags, created when missing. Idempotent."""
        body = compact(channel=channel, tags=dict(tags), discriminateByTags=list_or_none(discriminate_by_tags))
        path = path_of("conversations", "get-or-create")
        return await self._one("POST", path, "conversation", Conversation, body=body, idempotent=True)

    async def get_conversation(self, id: str) -> Conversation | None:
        """The conversation, or ``None`` when it does not exist."""
        return await self._get_or_none(path_of("conversations", id), "conversation", Conversation)

    async def update_conversation(self, id: str, *, tags: Mapping[str, str]) -> Conversation:
        """Set the given tags (an empty value unsets that tag); other tags are kept. Idempotent (PUT)."""
        body: JsonObject = {"tags": dict(tags)}
        return await self._one("PUT", path_of("conversations", id), "conversation", Conversation, body=body)

    async def list_conversations(
        self,
        *,
        channel: str | None = None,
        tags: Mapping[str, str] | None = None,
        integration_name: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[Conversation]:
        """Every conversation matching the filters, following ``nextToken`` for at most ``max_pages`` pages."""
        query = {"channel": channel, "tags": dict_or_none(tags), "integrationName": integration_name}
        return await self._list(path_of("conversations"), "conversations", Conversation, query, max_pages)

    # messages

    async def create_message(
        self, *, conversation_id: str, user_id: str, type: str, payload: Mapping[str, Any], tags: Mapping[str, str]
    ) -> Message:
        """Create a message (``tags`` is required, even empty). Not idempotent: not repeated after a lost answer."""
        body = message_body(conversation_id, user_id, type, payload, tags)
        return await self._one("POST", path_of("messages"), "message", Message, body=body)

    async def get_or_create_message(
        self,
        *,
        conversation_id: str,
        user_id: str,
        type: str,
        payload: Mapping[str, Any],
        tags: Mapping[str, str],
        discriminate_by_tags: Sequence[str] | None = None,
    ) -> Message:
        """The message matching ``discriminate_by_tags``, created when missing: a retry-safe create. Idempotent."""
        body = message_body(conversation_id, user_id, type, payload, tags)
        body.update(compact(discriminateByTags=list_or_none(discriminate_by_tags)))
        path = path_of("messages", "get-or-create")
        return await self._one("POST", path, "message", Message, body=body, idempotent=True)

    async def get_message(self, id: str) -> Message | None:
        """The message, or ``None`` when it does not exist."""
        return await self._get_or_none(path_of("messages", id), "message", Message)

    async def update_message(
        self, id: str, *, tags: Mapping[str, str], payload: Mapping[str, Any] | None = None
    ) -> Message:
        """Set the message's tags (and payload when given). Idempotent (PUT)."""
        body = compact(tags=dict(tags), payload=dict_or_none(payload))
        return await self._one("PUT", path_of("messages", id), "message", Message, body=body)

    async def list_messages(
        self,
        *,
        conversation_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[Message]:
        """Every message matching the filters, following ``nextToken`` for at most ``max_pages`` pages."""
        query = {"conversationId": conversation_id, "tags": dict_or_none(tags)}
        return await self._list(path_of("messages"), "messages", Message, query, max_pages)

    # events

    async def create_event(
        self,
        *,
        type: str,
        payload: Mapping[str, Any],
        conversation_id: str | None = None,
        user_id: str | None = None,
        message_id: str | None = None,
    ) -> Event:
        """Emit an integration event such as ``hitlAssigned`` or ``hitlStopped``.

        Not idempotent, and Botpress has no key to de-duplicate events. After a lost answer (or a 5xx) on an event
        of a conversation, the conversation's newest event of that type is read: when it carries the same payload,
        that is this event; otherwise it provably did not take effect and is sent again. So the caller must not
        emit the same type for the same conversation concurrently (the core holds the conversation's lock).
        Without ``conversation_id`` a lost answer is not repeated.
        """
        body = compact(
            type=type, payload=dict(payload), conversationId=conversation_id, userId=user_id, messageId=message_id
        )

        async def write() -> Event:
            return await self._one("POST", path_of("events"), "event", Event, body=body)

        if conversation_id is None:
            return await write()

        async def find() -> Event | None:
            newest = await self.newest_event(type=type, conversation_id=conversation_id)
            return newest if newest is not None and newest.payload == body["payload"] else None

        return await write_checked(write, find, unknown=outcome_unknown)

    async def list_events(self, *, type: str, conversation_id: str, max_pages: int = DEFAULT_MAX_PAGES) -> list[Event]:
        """The conversation's events of one type, following ``nextToken`` for at most ``max_pages`` pages."""
        query = {"type": type, "conversationId": conversation_id}
        return await self._list(path_of("events"), "events", Event, query, max_pages)

    async def newest_event(self, *, type: str, conversation_id: str) -> Event | None:
        """The conversation's most recent event of that type, or ``None``."""
        events = await self.list_events(type=type, conversation_id=conversation_id)
        return max(events, key=lambda event: (event.created_at, event.id), default=None)

    # states

    async def get_state(self, type: StateType, id: str, name: str) -> State | None:
        """The state, or ``None`` when it was never set (the API answers 404)."""
        return await self._get_or_none(path_of("states", type, id, name), "state", State)

    async def set_state(
        self, type: StateType, id: str, name: str, payload: Mapping[str, Any] | None, *, expiry_ms: int | None = None
    ) -> State:
        """Replace the state's payload (``None`` clears it), optionally expiring after ``expiry_ms``. Idempotent."""
        body: JsonObject = {"payload": dict_or_none(payload)}
        body.update(compact(expiry=expiry_ms))
        return await self._one("POST", path_of("states", type, id, name), "state", State, body=body, idempotent=True)

    async def get_or_set_state(
        self, type: StateType, id: str, name: str, payload: Mapping[str, Any], *, expiry_ms: int | None = None
    ) -> State:
        """The existing state, or the state set to ``payload`` when there was none. Idempotent."""
        body = compact(payload=dict(payload), expiry=expiry_ms)
        path = path_of("states", type, id, name, "get-or-set")
        return await self._one("POST", path, "state", State, body=body, idempotent=True)

    async def patch_state(self, type: StateType, id: str, name: str, payload: Mapping[str, Any]) -> State:
        """Merge ``payload`` into the state's payload (shallow). Idempotent: the same merge twice is one merge."""
        body: JsonObject = {"payload": dict(payload)}
        return await self._one("PATCH", path_of("states", type, id, name), "state", State, body=body, idempotent=True)

    # plumbing

    async def _one(
        self,
        method: str,
        path: str,
        key: str,
        model: type[ModelT],
        *,
        body: JsonObject | None = None,
        idempotent: bool | None = None,
    ) -> ModelT:
        data = await self._transport.call(method, path, body=body, idempotent=idempotent)
        return parse(model, data.get(key), f"{method} {path}", key)

    async def _get_or_none(self, path: str, key: str, model: type[ModelT]) -> ModelT | None:
        try:
            return await self._one("GET", path, key, model)
        except ResourceNotFoundError:
            return None

    async def _list(self, path: str, key: str, model: type[ModelT], query: JsonObject, max_pages: int) -> list[ModelT]:
        items: list[ModelT] = []
        token: str | None = None
        for _ in range(max_pages):
            data = await self._transport.call("GET", path, query={**query, "nextToken": token})
            items.extend(parse_list(model, data.get(key), f"GET {path}", key))
            token = next_token(data)
            if token is None:
                return items
        log.warning("Botpress GET %s: stopped after %d pages; more results exist", path, max_pages)
        return items
