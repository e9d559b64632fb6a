"""Console API of a conversation's media and delivery: attachments, retrying a failed reply, the signed file links,
and the JSON answers of unknown paths and wrong methods under the console's prefixes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import BodyPartReader, web

from ..errors import InvalidInput
from ..files import MAX_BYTES, Upload
from ..models import Agent
from .common import EDGE, Handler, agent_required, error, ok, service_of

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def idempotency_key(request: web.Request) -> str | None:
    """The request's ``Idempotency-Key`` (the console sends a UUID per send), or ``None``."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(IDEMPOTENCY_HEADER, f"must be at most {MAX_KEY_LENGTH} characters")
    return key or None


def base_url(request: web.Request) -> str:
    """Where end users reach this server: ``HITL_BRIDGE_PUBLIC_URL``, else the request's own origin."""
    return request.app[EDGE].public_url or f"{request.scheme}://{request.host}"


class _TooLarge(Exception):
    pass


async def _read_upload(request: web.Request) -> Upload:
    """The multipart part ``file``, read at most :data:`MAX_BYTES` (a larger one is refused while it streams)."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("file", "send the file as multipart/form-data")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError):
        raise InvalidInput("file", "send the file as multipart/form-data") from None
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data = await _read_part(part)
            if not data:
                raise InvalidInput("file", "must not be empty")
            content_type = part.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
            return Upload((part.filename or "file")[:255], content_type.lower() or "application/octet-stream", data)
    raise InvalidInput("file", "missing: send one part named file")


async def _read_part(part: BodyPartReader) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@agent_required
async def attach(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Upload a file and send it to the end user as an image or file message (201 with the message)."""
    key = idempotency_key(request)
    try:
        upload = await _read_upload(request)
    except _TooLarge:
        return error(413, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
    actions = service_of(request).actions
    message = await actions.attach(agent, request.match_info["session_id"], upload, base_url(request), key)
    return ok(message, status=201)


@agent_required
async def retry(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Queue a failed reply again."""
    session_id, message_id = request.match_info["session_id"], request.match_info["message_id"]
    return ok(await service_of(request).actions.retry(agent, session_id, message_id))


def unknown_paths(routes: Iterable[tuple[str, str]]) -> Handler:
    """The catch-all of a prefix: 405 JSON with ``Allow`` for a known path asked with another method, else 404 JSON
    (never the operations endpoint's error, which would answer any other POST)."""
    patterns = [
        (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), method) for method, path in routes
    ]

    async def unknown(request: web.Request) -> web.StreamResponse:
        allowed = sorted({method for pattern, method in patterns if pattern.match(request.path)})
        if not allowed:
            return error(404, "no such endpoint")
        response = error(405, f"use {', '.join(allowed)} on this path")
        response.headers["Allow"] = ", ".join(allowed)
        return response

    return unknown
