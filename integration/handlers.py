"""The HTTP edge: aiohttp requests in, framework-free operations out, aiohttp responses back."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from .access_log import redact_path
from .app_keys import DISPATCHER, SETTINGS, WEB_PARTS
from .context import context_trace_id
from .errors import error_response
from .logging_setup import trace_id_var
from .operations import OperationRequest, OperationResponse

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
log = logging.getLogger(__name__)


@web.middleware
async def no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Whatever escapes a route is answered as an operation's failure is: a JSON error body, never a traceback.

    Too deep or unencodable input (RecursionError, UnicodeError) is a 400; anything else the SDK's generic 500.
    Every body's ``code`` is its status; adapters' web routes (the inbox console) keep their ``{"error", "code"}``.
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        response = error_response(exc)
        secret = request.app[SETTINGS].secret_path
        path = redact_path(request.path, secret.get_secret_value() if secret else None)
        log.error("%s %s failed: %s", request.method, path, type(exc).__name__, exc_info=response.status >= 500)
        return web.json_response(_body_for(request, response.body, response.status), status=response.status)


def _body_for(request: web.Request, body: dict[str, Any], status: int) -> dict[str, Any]:
    """The SDK's body for operations; ``{"error", "code"}`` on the routes an adapter mounted with that shape."""
    prefixes = tuple(prefix for parts in request.app.get(WEB_PARTS, []) for prefix in parts.error_prefixes)
    if not request.path.startswith(prefixes) or request.match_info.handler is operation:
        return body
    return {"error": body.get("message") or body.get("error") or "failed", "code": status}


async def to_operation_request(request: web.Request) -> OperationRequest:
    """Translate an aiohttp request (headers lower-cased, a duplicate keeps its last value)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    # Like Node's Buffer.toString('utf-8'): invalid bytes become U+FFFD instead of failing the request.
    body = (await request.read()).decode("utf-8", errors="replace") if request.method in _BODY_METHODS else None
    return OperationRequest(headers=headers, body=body)


def to_web_response(response: OperationResponse) -> web.Response:
    """Translate back; like the SDK, no content type is forced on the runtime."""
    headers = {"Content-Type": "application/json", **response.headers}
    return web.Response(status=response.status, text=response.body, headers=headers)


async def operation(request: web.Request) -> web.StreamResponse:
    """Any POST: one Botpress operation, dispatched on ``x-bp-operation``."""
    if not _secret_matches(request):
        raise web.HTTPNotFound()
    translated = await to_operation_request(request)
    token = trace_id_var.set(context_trace_id(translated.headers))
    try:
        return to_web_response(await request.app[DISPATCHER].dispatch(translated))
    finally:
        trace_id_var.reset(token)


async def health(request: web.Request) -> web.Response:
    """Liveness probe."""
    return web.Response(text="ok")


async def no_content(request: web.Request) -> web.Response:
    """An empty answer (for browsers asking for a favicon)."""
    return web.Response(status=204)


def _secret_matches(request: web.Request) -> bool:
    secret = request.app[SETTINGS].secret_path
    if secret is None:
        return True
    first = request.path.strip("/").split("/", 1)[0]
    return hmac.compare_digest(first.encode(), secret.get_secret_value().encode())
