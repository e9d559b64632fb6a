"""Errors of the integration, and how every failure becomes the SDK's HTTP response.

Hierarchy::

    ContextError                    a missing or unreadable x-bp-* header  -> 500 {"error": ...}
    IntegrationError                carries its own Botpress error body
    ├── BotpressRuntimeError        user-facing failure                    -> 400 {type: "Runtime"}
    ├── InvalidPayloadError         the request body is wrong              -> 400 {type: "InvalidPayload"}
    └── ForbiddenError              rejected by the bot-id allow-list       -> 403 {type: "Forbidden"}

Anything else is mapped by :func:`error_response`: adapter errors by kind, Botpress API errors to a
500 that keeps their message (as the SDK does), and the rest to a 500 with the SDK's generic text.
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

from .botpress.errors import BotpressError

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
    """Map any exception raised by an operation to the response the SDK would give."""
    if isinstance(exc, ContextError):
        return ErrorResponse(500, {"error": str(exc)})
    if isinstance(exc, IntegrationError):
        return ErrorResponse(exc.status, error_body(exc.type, exc.message, exc.status))
    if isinstance(exc, UnknownAdapterError):
        return ErrorResponse(400, error_body("Runtime", f"configuration.adapter: {exc}"))
    if isinstance(exc, AdapterConfigError | SessionOptionsError | InvalidWebhookError):
        return ErrorResponse(400, error_body("InvalidPayload", str(exc)))
    if isinstance(exc, InvalidSignatureError):
        return ErrorResponse(401, error_body("Unauthorized", str(exc) or "invalid webhook signature", 401))
    if isinstance(exc, ExternalRequestError):
        return ErrorResponse(400, error_body("Runtime", str(exc)))
    if isinstance(exc, ExternalServiceError | BotpressError):
        # Transient or upstream failures: a 500 lets the runtime retry; the body keeps a readable message.
        return ErrorResponse(500, error_body("Runtime", str(exc)))
    return ErrorResponse(500, error_body("Runtime", UNEXPECTED_MESSAGE))
