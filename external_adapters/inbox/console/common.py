"""Helpers of the console edge: the service lookup, JSON bodies, error mapping and authentication."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from external_adapters import safe_json
from external_adapters.extensions import WebEdge

from ..errors import InboxError, InvalidInput
from ..models import Agent
from ..service import InboxService

EDGE = web.AppKey("inbox_console_edge", WebEdge)
"""How the server reaches the inbox service and how clients reach the server (see :func:`..console.mount`)."""
COOKIE = "inbox_login"
CLIENT_HEADER = "X-Inbox-Client"
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AgentHandler = Callable[[web.Request, Agent], Awaitable[web.StreamResponse]]


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The console's error body: ``{"error": message, "code": status, ...}`` (app.js shows ``error``)."""
    return {"error": message, "code": status, **extra}


def error(status: int, message: str, **extra: Any) -> web.Response:
    """A JSON error response whose ``code`` is its HTTP status."""
    return web.json_response(error_body(status, message, **extra), status=status)


def service_of(request: web.Request) -> InboxService:
    """The process's inbox service, or a 503 when the inbox is not running."""
    backend = request.app[EDGE].backend()
    if not isinstance(backend, InboxService):
        raise web.HTTPServiceUnavailable(
            text=json.dumps(error_body(503, "the inbox is not running")), content_type="application/json"
        )
    return backend


async def body_as(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``. Raises :class:`InvalidInput` naming the field.

    Not UTF-8, not JSON or nested too deeply is ``body: must be JSON``; lone surrogates become U+FFFD.
    """
    try:
        raw = safe_json.loads((await request.read()).decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        raise InvalidInput("body", "must be JSON") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from None


def json_errors(handler: Handler) -> Handler:
    """Turn service errors into JSON responses with their status, never a traceback."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidInput as exc:
            return error(400, str(exc), field=exc.field)
        except InboxError as exc:
            return error(exc.status, str(exc))

    return wrapped


def _token(request: web.Request) -> tuple[str | None, bool]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return request.cookies.get(COOKIE), True


def login_token(request: web.Request) -> str | None:
    """The login token the request carries (bearer header first, then the login cookie), or ``None``."""
    return _token(request)[0]


async def agent_of(request: web.Request) -> Agent | None:
    """The logged-in agent (bearer token or login cookie), or ``None``."""
    token, _ = _token(request)
    return await service_of(request).agents.from_token(token) if token else None


def agent_required(handler: AgentHandler) -> Handler:
    """Require a logged-in agent. Cookie-authenticated writes must carry ``X-Inbox-Client`` (CSRF guard)."""

    @json_errors
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        token, by_cookie = _token(request)
        agent = await service_of(request).agents.from_token(token) if token else None
        if agent is None:
            return error(401, "log in first")
        if by_cookie and request.method not in ("GET", "HEAD") and CLIENT_HEADER not in request.headers:
            return error(403, f"missing {CLIENT_HEADER} header")
        return await handler(request, agent)

    return wrapped


def _same_secret(given: str, expected: str) -> bool:
    """Constant-time equality, compared as bytes: ``compare_digest`` refuses a ``str`` with non-ASCII characters,
    which any client may send."""
    return hmac.compare_digest(given.encode(errors="surrogatepass"), expected.encode(errors="surrogatepass"))


def admin_token_required(handler: Handler) -> Handler:
    """Require ``Authorization: Bearer <admin_token>`` (the admin API is off when no token is set)."""

    @json_errors
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        expected = service_of(request).options.admin_token
        if expected is None:
            return error(404, "the admin API is disabled: set the inbox admin_token option")
        token, by_cookie = _token(request)
        if by_cookie or not token or not _same_secret(token, expected.get_secret_value()):
            return error(401, "a valid admin token is required")
        return await handler(request)

    return wrapped


def ok(data: Any, status: int = 200) -> web.Response:
    """A JSON response of pydantic models, lists or plain data."""
    return web.json_response(_plain(data), status=status)


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_plain(item) for item in data]
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    return data
