"""The emulated Runtime API as an aiohttp sub-application: ``/v1/chat/...`` with the real paths and status codes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..slot import Slot
from ..store import Record
from .bodies import (
    ConfigureIntegration,
    CreateConversation,
    CreateEvent,
    CreateMessage,
    CreateUser,
    GetOrCreateConversation,
    GetOrCreateMessage,
    GetOrCreateUser,
    UpdateConversation,
    UpdateMessage,
    UpdateUser,
    parse_body,
)
from .errors import ApiError, Handler, api_errors, read_json_object
from .keys import BOTPRESS
from .query import in_date_range, sorted_by_query, tag_filter
from .records import newest_first, page, public
from .service import Botpress
from .state_routes import state_routes


def create_runtime_api(botpress: Botpress | Slot[Botpress]) -> web.Application:
    """The sub-application; mount it so that its ``/v1/chat/...`` paths sit under the Botpress base URL.

    Pass a :class:`Slot` when the emulated Botpress is made later, at the application's startup.
    """
    app = web.Application(middlewares=[api_errors, _authenticate])
    app[BOTPRESS] = botpress if isinstance(botpress, Slot) else Slot(botpress)
    app.router.add_routes(_routes() + state_routes())
    return app


def _routes() -> list[web.RouteDef]:
    chat = "/v1/chat"
    return [
        web.post(f"{chat}/users", create_user),
        web.get(f"{chat}/users", list_users),
        web.post(f"{chat}/users/get-or-create", get_or_create_user),
        web.get(f"{chat}/users/{{id}}", get_user),
        web.put(f"{chat}/users/{{id}}", update_user),
        web.delete(f"{chat}/users/{{id}}", delete_user),
        web.post(f"{chat}/conversations", create_conversation),
        web.get(f"{chat}/conversations", list_conversations),
        web.post(f"{chat}/conversations/get-or-create", get_or_create_conversation),
        web.get(f"{chat}/conversations/{{id}}", get_conversation),
        web.put(f"{chat}/conversations/{{id}}", update_conversation),
        web.delete(f"{chat}/conversations/{{id}}", delete_conversation),
        web.post(f"{chat}/messages", create_message),
        web.get(f"{chat}/messages", list_messages),
        web.post(f"{chat}/messages/get-or-create", get_or_create_message),
        web.get(f"{chat}/messages/{{id}}", get_message),
        web.put(f"{chat}/messages/{{id}}", update_message),
        web.delete(f"{chat}/messages/{{id}}", delete_message),
        web.post(f"{chat}/events", create_event),
        web.get(f"{chat}/events", list_events),
        web.get(f"{chat}/events/{{id}}", get_event),
        web.post(f"{chat}/integrations/configure", configure_integration),
    ]


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bearer token (any, in the sandbox) and this sandbox's bot id; an integration id, if sent, must be ours."""
    identity = _botpress(request).identity
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("Unauthorized", "A bearer token is required (Authorization: Bearer <token>)")
    bot_id = request.headers.get("x-bot-id")
    if not bot_id:
        raise ApiError("InvalidPayload", "x-bot-id: header is required")
    if bot_id != identity.bot_id:
        raise ApiError("Forbidden", f"x-bot-id: this token has no access to bot {bot_id!r}")
    integration_id = request.headers.get("x-integration-id")
    if integration_id is not None and integration_id != identity.integration_id:
        raise ApiError("Forbidden", f"x-integration-id: integration {integration_id!r} is not installed on this bot")
    return await handler(request)


def _botpress(request: web.Request) -> Botpress:
    return request.app[BOTPRESS].value


def _by_integration(request: web.Request) -> bool:
    return "x-integration-id" in request.headers


def _integration_name(request: web.Request) -> str:
    return request.headers.get("x-integration-alias") or _botpress(request).identity.integration_alias


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _listing(name: str, records: list[Record], request: web.Request) -> web.Response:
    items, meta = page(records, request.query.get("nextToken"))
    return _json({name: items, "meta": meta})


# Users


async def create_user(request: web.Request) -> web.Response:
    body = parse_body(CreateUser, await read_json_object(request))
    user = await _botpress(request).create_user(body.tags, body.name, body.picture_url)
    return _json({"user": public(user)}, 201)


async def get_or_create_user(request: web.Request) -> web.Response:
    body = parse_body(GetOrCreateUser, await read_json_object(request))
    botpress = _botpress(request)
    user = await botpress.get_or_create_user(body.tags, body.name, body.picture_url, body.discriminate_by_tags)
    return _json({"user": public(user)})


async def get_user(request: web.Request) -> web.Response:
    return _json({"user": public(await _botpress(request).users.get(request.match_info["id"]))})


async def update_user(request: web.Request) -> web.Response:
    body = parse_body(UpdateUser, await read_json_object(request))
    changes = body.model_dump(by_alias=True, include=body.model_fields_set)
    return _json({"user": public(await _botpress(request).update_user(request.match_info["id"], changes))})


async def delete_user(request: web.Request) -> web.Response:
    await _botpress(request).users.delete(request.match_info["id"])
    return _json({})


async def list_users(request: web.Request) -> web.Response:
    botpress, query = _botpress(request), request.query
    users = await botpress.users.select({}, tag_filter(query))
    if "conversationId" in query:
        members = set(await botpress.conversation_user_ids(query["conversationId"]))
        users = [user for user in users if user["id"] in members]
    users = in_date_range(users, query, query.get("rangeField", "createdAt"))
    return _listing("users", sorted_by_query(users, query), request)


# Conversations


async def create_conversation(request: web.Request) -> web.Response:
    body = parse_body(CreateConversation, await read_json_object(request))
    conversation = await _botpress(request).create_conversation(body.channel, body.tags, _integration_name(request))
    return _json({"conversation": public(conversation)}, 201)


async def get_or_create_conversation(request: web.Request) -> web.Response:
    body = parse_body(GetOrCreateConversation, await read_json_object(request))
    conversation = await _botpress(request).get_or_create_conversation(
        body.channel, body.tags, _integration_name(request), body.discriminate_by_tags
    )
    return _json({"conversation": public(conversation)})


async def get_conversation(request: web.Request) -> web.Response:
    return _json({"conversation": public(await _botpress(request).conversations.get(request.match_info["id"]))})


async def update_conversation(request: web.Request) -> web.Response:
    body = parse_body(UpdateConversation, await read_json_object(request))
    conversation = await _botpress(request).update_conversation(request.match_info["id"], body.tags)
    return _json({"conversation": public(conversation)})


async def delete_conversation(request: web.Request) -> web.Response:
    await _botpress(request).conversations.delete(request.match_info["id"])
    return _json({})


async def list_conversations(request: web.Request) -> web.Response:
    query = request.query
    where = {key: query[key] for key in ("channel",) if key in query}
    if "integrationName" in query:
        where["integration"] = query["integrationName"]
    conversations = await _botpress(request).conversations.select(where, tag_filter(query))
    participants = set(query.getall("participantIds", []))
    conversations = [c for c in conversations if participants <= set(c.get("_participants", []))]
    return _listing("conversations", sorted_by_query(in_date_range(conversations, query), query), request)


# Messages


async def create_message(request: web.Request) -> web.Response:
    body = parse_body(CreateMessage, await read_json_object(request))
    message = await _botpress(request).create_message(
        body.conversation_id,
        body.user_id,
        body.type,
        body.payload,
        body.tags,
        by_integration=_by_integration(request),
        origin=body.origin,
    )
    return _json({"message": public(message)}, 201)


async def get_or_create_message(request: web.Request) -> web.Response:
    body = parse_body(GetOrCreateMessage, await read_json_object(request))
    message = await _botpress(request).get_or_create_message(
        body.conversation_id,
        body.user_id,
        body.type,
        body.payload,
        body.tags,
        body.discriminate_by_tags,
        by_integration=_by_integration(request),
    )
    return _json({"message": public(message)})


async def get_message(request: web.Request) -> web.Response:
    return _json({"message": public(await _botpress(request).messages.get(request.match_info["id"]))})


async def update_message(request: web.Request) -> web.Response:
    body = parse_body(UpdateMessage, await read_json_object(request))
    message = await _botpress(request).update_message(request.match_info["id"], body.tags, body.payload)
    return _json({"message": public(message)})


async def delete_message(request: web.Request) -> web.Response:
    await _botpress(request).messages.delete(request.match_info["id"])
    return _json({})


async def list_messages(request: web.Request) -> web.Response:
    query = request.query
    where = {"conversationId": query["conversationId"]} if "conversationId" in query else {}
    messages = await _botpress(request).messages.select(where, tag_filter(query))
    return _listing("messages", newest_first(in_date_range(messages, query)), request)


# Events


async def create_event(request: web.Request) -> web.Response:
    body = parse_body(CreateEvent, await read_json_object(request))
    refs = {"conversationId": body.conversation_id, "userId": body.user_id, "messageId": body.message_id}
    event = await _botpress(request).create_event(
        body.type, body.payload, refs, by_integration=_by_integration(request)
    )
    return _json({"event": public(event)}, 201)


async def get_event(request: web.Request) -> web.Response:
    return _json({"event": public(await _botpress(request).events.get(request.match_info["id"]))})


async def list_events(request: web.Request) -> web.Response:
    query = request.query
    fields = ("type", "conversationId", "userId", "messageId", "status")
    events = await _botpress(request).events.select({key: query[key] for key in fields if key in query})
    return _listing("events", newest_first(events), request)


async def configure_integration(request: web.Request) -> web.Response:
    parse_body(ConfigureIntegration, await read_json_object(request))
    return _json({})
