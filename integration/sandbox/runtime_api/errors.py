"""The Runtime API's error bodies: ``{"id": "err_…", "code": <status>, "type": "<Type>", "message": "…"}``."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from external_adapters import safe_json

from ..slot import NotStartedError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS_OF_TYPE = {
    "InvalidPayload": 400,
    "InvalidQuery": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "ResourceNotFound": 404,
    "MethodNotFound": 405,
    "UnsupportedMediaType": 415,
    "Internal": 500,
}


class ApiError(Exception):
    """An error the emulated API answers with; ``type`` is one of the Botpress error types."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.status = STATUS_OF_TYPE[type]


def invalid_payload(message: str) -> ApiError:
    """400 ``InvalidPayload``."""
    return ApiError("InvalidPayload", message)


def not_found(what: str, ident: str) -> ApiError:
    """404 ``ResourceNotFound`` for ``what`` (``User``, ``Conversation``...) ``ident``."""
    return ApiError("ResourceNotFound", f"{what} {ident!r} not found")


def error_id() -> str:
    """``err_`` + compact UTC timestamp + ``x`` + 8 upper-case hex digits, as the SDK makes them."""
    return f"err_{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}x{secrets.token_hex(4).upper()}"


def error_response(type: str, message: str) -> web.Response:
    """The JSON response for an error of ``type``."""
    status = STATUS_OF_TYPE[type]
    body = {"id": error_id(), "code": status, "type": type, "message": message}
    return web.json_response(body, status=status)


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure of the emulated API becomes a Botpress error body, never an HTML page or a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.type, exc.message)
    except web.HTTPNotFound:
        return error_response("ResourceNotFound", f"No route for {request.method} {request.path}")
    except web.HTTPMethodNotAllowed:
        return error_response("MethodNotFound", f"Method {request.method} is not allowed on {request.path}")
    except NotStartedError:
        return error_response("Internal", "The sandbox is not running yet; try again in a moment")
    except Exception:
        log.exception("sandbox: %s %s failed", request.method, request.path)
        return error_response("Internal", "The emulated Runtime API failed on this request; see the server log")


async def read_json_object(request: web.Request) -> dict[str, object]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    raw = await request.read()
    if not raw:
        raise invalid_payload("The request body is empty; a JSON object is expected")
    try:
        body = safe_json.loads(raw.decode("utf-8"))  # too deeply nested is invalid JSON too, not a 500
    except ValueError:  # UnicodeDecodeError included
        raise invalid_payload("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_payload("The request body must be a JSON object")
    return body
