"""The end-user chat page at ``/sandbox``: static HTML and vanilla JS, live updates by server-sent events."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from ..assembly import SANDBOX
from ..feed import CLOSED
from ..runtime_api.records import newest_first

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CHAT_CHANNEL = "channel"
CHAT_INTEGRATION = "sandbox-chat"
HEARTBEAT_SECONDS = 15.0
MAX_TEXT = 4000
MAX_URL = 2048
MEDIA_FIELDS = {"image": "imageUrl", "audio": "audioUrl", "video": "videoUrl", "file": "fileUrl"}


def chat_routes() -> list[web.AbstractRouteDef]:
    """The page, its assets and its JSON endpoints."""
    return [
        web.get("/sandbox", page),
        web.get("/sandbox/", page),
        web.static("/sandbox/static", STATIC),
        web.post("/sandbox/chat/start", start),
        web.post("/sandbox/chat/messages", send),
        web.get("/sandbox/chat/stream", stream),
        web.get("/sandbox/chat/status", status),
    ]


async def page(request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _missing(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=json.dumps({"error": message}), content_type="application/json")


async def _object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _bad("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _text_field(body: dict[str, Any], name: str, *, required: bool, limit: int = 200) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _bad(f"{name}: a non-empty string of at most {limit} characters is required")
    return value.strip()


async def start(request: web.Request) -> web.Response:
    """Resume the visitor's conversation (``userId`` + ``conversationId``) or start a new one."""
    botpress, body = request.app[SANDBOX].value.botpress, await _object(request)
    user_id = _text_field(body, "userId", required=False)
    conversation_id = _text_field(body, "conversationId", required=False)
    if user_id and conversation_id:
        user, conversation = await botpress.users.find(user_id), await botpress.conversations.find(conversation_id)
        if user and conversation and conversation["integration"] == CHAT_INTEGRATION:
            return web.json_response({"userId": user_id, "conversationId": conversation_id, "name": user.get("name")})
    name = _text_field(body, "name", required=False) or "Sandbox visitor"
    user = await botpress.create_user({}, name)
    conversation = await botpress.create_conversation(CHAT_CHANNEL, {}, CHAT_INTEGRATION)
    return web.json_response({"userId": user["id"], "conversationId": conversation["id"], "name": name})


def _message(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(type, payload)``: ``{"text"}``, or ``{"type": "image", "imageUrl", "title"?}`` (audio, video, file alike)."""
    kind = body.get("type", "text")
    if kind == "text":
        return "text", {"text": _text_field(body, "text", required=True, limit=MAX_TEXT)}
    url_field = MEDIA_FIELDS.get(kind) if isinstance(kind, str) else None
    if url_field is None:
        raise _bad("type: one of text, " + ", ".join(MEDIA_FIELDS) + " is required")
    url = str(_text_field(body, url_field, required=True, limit=MAX_URL))
    if not url.startswith(("https://", "http://")):
        raise _bad(f"{url_field}: an http(s) URL is required")
    title = _text_field(body, "title", required=False)
    return kind, {url_field: url, **({"title": title} if title else {})}


async def send(request: web.Request) -> web.Response:
    """The visitor writes a message (an incoming message of the chat channel): a text, or a media by URL."""
    botpress, body = request.app[SANDBOX].value.botpress, await _object(request)
    conversation_id = str(_text_field(body, "conversationId", required=True))
    user_id = str(_text_field(body, "userId", required=True))
    kind, payload = _message(body)
    conversation = await botpress.conversations.find(conversation_id)
    if conversation is None or conversation["integration"] != CHAT_INTEGRATION:
        raise _missing(f"conversationId: no chat conversation {conversation_id!r}")
    if await botpress.users.find(user_id) is None:
        raise _missing(f"userId: no user {user_id!r}")
    message = await botpress.create_message(conversation_id, user_id, kind, payload, {}, by_integration=True)
    return web.json_response({"id": message["id"]}, status=201)


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the conversation's messages so far, then each new one."""
    sandbox = request.app[SANDBOX].value
    botpress, feed = sandbox.botpress, sandbox.feed
    conversation_id = request.query.get("conversationId", "")
    if await botpress.conversations.find(conversation_id) is None:
        raise _missing(f"conversationId: no conversation {conversation_id!r}")
    queue = feed.watch(conversation_id)
    response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-store"})
    await response.prepare(request)
    try:
        history = newest_first(await botpress.messages.select({"conversationId": conversation_id}))
        for message in reversed(history):
            await _send_event(response, await feed.view(message))
        await _pump(response, queue)
    except ConnectionResetError:
        # The tab was closed: aiohttp only notices at the next write. Nothing went wrong.
        log.debug("chat stream of %s closed by the page", conversation_id)
    finally:
        feed.unwatch(conversation_id, queue)
    return response


async def _pump(response: web.StreamResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        try:
            async with asyncio.timeout(HEARTBEAT_SECONDS):  # not wait_for: it can swallow a cancellation on 3.11
                view = await queue.get()
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        if view is CLOSED:
            return
        await _send_event(response, view)


async def _send_event(response: web.StreamResponse, view: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(view)}\n\n".encode())


async def status(request: web.Request) -> web.Response:
    """The runtime's registration status and latest calls to the integration (for the page's log panel)."""
    runtime = request.app[SANDBOX].value.runtime
    return web.json_response(
        {
            "registration": runtime.activity.registration,
            "integrationUrl": runtime.integration_url,
            "webhookUrl": runtime.webhook_url,
            "calls": list(runtime.activity.entries)[-30:],
        }
    )
