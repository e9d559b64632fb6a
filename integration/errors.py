"""Errors of the integration, and how every failure becomes the SDK's HTTP response.

Hierarchy::

    ContextError                    a missing or unreadable x-bp-* header  -> 500 {"error": ...}
    IntegrationError                carries its own Botpress error body
    ├── BotpressRuntimeError        user-facing failure                    -> 400 {type: "Runtime"}
    ├── InvalidPayloadError         the request body is wrong              -> 400 {type: "InvalidPayload"}
    └── ForbiddenError              rejected by the bot-id allow-list       -> 403 {type: "Forbidden"}

Anything else is mapped by :func:`error_response`: adapter errors by kind; a Botpress API refusal (4xx
but 429) to a 400 ``Runtime`` with its message, since repeating the call cannot succeed; transient
failures to a 500 ``Internal`` with their message (the runtime may retry); input too deep or not
encodable (:class:`RecursionError`, :class:`UnicodeError`) to a 400; the rest to a 500 with the SDK's
generic text. Unlike the SDK, whose 500 bodies say ``code: 400``, every body's ``code`` is its HTTP status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from external_adapters import (
    AdapterConfigError,
    ExternalRequestError,
    ExternalServiceError,
    InvalidSignatureError,
    InvalidWebhookError,
    SessionOptionsError,
    UnknownAdapterError,
)

from .botpress.errors import BotpressApiError, BotpressError

UNEXPECTED_MESSAGE = (
    "An unexpected error occurred in the integration. Bot owners: Check logs for more informations. "
    "Integration owners: throw a RuntimeError to return a custom error message instead."
)


class ContextError(Exception):
    """A required ``x-*`` header is missing or cannot be decoded. Answered as the SDK's bare 500."""


class IntegrationError(Exception):
    """An error with a Botpress error body."""

    status: int = 400
    type: str = "Runtime"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BotpressRuntimeError(IntegrationError):
    """A failure the bot owner should read (the SDK's ``RuntimeError``)."""


class InvalidPayloadError(IntegrationError):
    """The request's body or input is not valid (the SDK's ``InvalidPayloadError``)."""

    type = "InvalidPayload"


class ForbiddenError(IntegrationError):
    """The request came from a bot this server does not serve."""

    status = 403
    type = "Forbidden"


@dataclass(frozen=True)
class ErrorResponse:
    """Status and JSON body of a failed operation."""

    status: int
    body: dict[str, Any]


def new_error_id(now: datetime | None = None) -> str:
    """An id in the SDK's format: ``err_<yyyymmddHHMMSS>x<8 upper-case hex>``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"err_{stamp}x{secrets.token_hex(4).upper()}"


def error_body(error_type: str, message: str, code: int = 400) -> dict[str, Any]:
    """The Botpress error body ``{id, code, type, message}``."""
    return {"id": new_error_id(), "code": code, "type": error_type, "message": message}


def error_response(exc: BaseException) -> ErrorResponse:
    """Map any exception raised by an operation to the response the SDK would give (``code`` = status)."""
    if isinstance(exc, ContextError):
        return ErrorResponse(500, {"error": str(exc)})
    if isinstance(exc, IntegrationError):
        return _response(exc.status, exc.type, exc.message)
    if isinstance(exc, UnknownAdapterError):
        return _response(400, "Runtime", f"configuration.adapter: {exc}")
    if isinstance(exc, AdapterConfigError | SessionOptionsError | InvalidWebhookError):
        return _response(400, "InvalidPayload", str(exc))
    if isinstance(exc, InvalidSignatureError):
        return _response(401, "Unauthorized", str(exc) or "invalid webhook signature")
    if isinstance(exc, ExternalRequestError) or _botpress_refusal(exc):
        return _response(400, "Runtime", str(exc))
    if isinstance(exc, ExternalServiceError | BotpressError):
        # Transient or upstream failures: a 500 lets the runtime retry; the body keeps a readable message.
        return _response(500, "Internal", str(exc))
    return _hostile_input(exc) or _response(500, "Internal", UNEXPECTED_MESSAGE)


def _response(status: int, error_type: str, message: str) -> ErrorResponse:
    return ErrorResponse(status, error_body(error_type, message, status))


def _botpress_refusal(exc: BaseException) -> bool:
    """A Botpress 4xx other than a rate limit: the same call will be refused again, so no 500 (no retry)."""
    return isinstance(exc, BotpressApiError) and not exc.is_transient and 400 <= exc.status < 500


def _hostile_input(exc: BaseException) -> ErrorResponse | None:
    # Only input can nest this deep or hold unencodable text: the caller's fault, not worth a retry.
    if isinstance(exc, RecursionError):
        return _response(400, "InvalidPayload", "input: nested too deeply")
    if isinstance(exc, UnicodeError):
        return _response(400, "InvalidPayload", "input: a text that cannot be encoded")
    return None
