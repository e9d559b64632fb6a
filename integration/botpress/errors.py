"""Errors raised by :class:`~integration.botpress.client.BotpressClient`.

Hierarchy::

    BotpressError
    ├── BotpressApiError              the Runtime API answered with a non-2xx status (``type`` from the body)
    │   ├── InvalidPayloadError       400 InvalidPayload
    │   ├── UnauthorizedError         401 Unauthorized
    │   ├── ForbiddenError            403 Forbidden
    │   ├── ResourceNotFoundError     404 ResourceNotFound
    │   ├── AlreadyExistsError        409 AlreadyExists
    │   ├── RateLimitedError          429 RateLimited (after the retries ran out)
    │   └── InternalError             500 Internal
    └── BotpressUnavailableError      no answer at all (network failure after the retries ran out)
        └── BotpressOutcomeUnknownError   no answer to a write that may have reached Botpress (not repeated)

A body of neither documented shape gives a plain :class:`BotpressApiError` of type ``"Unknown"``.
Messages are one line, truncated, and never carry the token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, ClassVar

MAX_MESSAGE_CHARS = 300
UNKNOWN_TYPE = "Unknown"
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` on one line, at most ``MAX_MESSAGE_CHARS`` long, with every secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


class BotpressError(Exception):
    """Base of every error the Botpress client raises."""


class BotpressApiError(BotpressError):
    """The Runtime API refused a request, or failed on it.

    ``status`` is the HTTP status, ``code`` the body's ``code`` (or ``status``; the HTTP status when absent),
    ``type`` the body's error type (``"Unknown"`` when the body is not a Botpress error), ``error_id``
    the body's ``id`` and ``metadata`` its ``metadata`` object, if any.
    """

    error_type: ClassVar[str] = ""

    def __init__(
        self,
        *,
        type: str,
        code: int,
        message: str,
        status: int,
        error_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        operation: str = "",
    ) -> None:
        self.type = type
        self.code = code
        self.message = message
        self.status = status
        self.error_id = error_id
        self.metadata = metadata
        self.operation = operation
        where = f"Botpress {operation} -> {status}" if operation else f"Botpress -> {status}"
        super().__init__(f"{where} {type}: {message}")

    @property
    def is_transient(self) -> bool:
        """Whether the same request may succeed later (rate limit or server-side failure)."""
        return self.status == 429 or self.status >= 500


class InvalidPayloadError(BotpressApiError):
    """400: the request body or parameters were rejected."""

    error_type = "InvalidPayload"


class UnauthorizedError(BotpressApiError):
    """401: the token is missing, wrong or expired."""

    error_type = "Unauthorized"


class ForbiddenError(BotpressApiError):
    """403: the token may not act on this bot or resource."""

    error_type = "Forbidden"


class ResourceNotFoundError(BotpressApiError):
    """404: the user, conversation, message or state does not exist."""

    error_type = "ResourceNotFound"


class AlreadyExistsError(BotpressApiError):
    """409: the record to create already exists."""

    error_type = "AlreadyExists"


class RateLimitedError(BotpressApiError):
    """429: the rate limit still held after every retry."""

    error_type = "RateLimited"


class InternalError(BotpressApiError):
    """500: Botpress failed on its side."""

    error_type = "Internal"


class BotpressUnavailableError(BotpressError):
    """The Runtime API could not be reached: every attempt failed without a response."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"Botpress {operation} unreachable: {reason}")
        self.operation = operation
        self.reason = reason


class BotpressOutcomeUnknownError(BotpressUnavailableError):
    """A write that is not idempotent got no answer after it may have reached Botpress: it was not repeated.

    Whether it took effect is unknown; only a check (e.g. listing the events) can tell.
    """


_BY_TYPE: dict[str, type[BotpressApiError]] = {
    cls.error_type: cls
    for cls in (
        InvalidPayloadError,
        UnauthorizedError,
        ForbiddenError,
        ResourceNotFoundError,
        AlreadyExistsError,
        RateLimitedError,
        InternalError,
    )
}


def error_from_body(status: int, body: bytes, *, operation: str = "", secrets: Iterable[str] = ()) -> BotpressApiError:
    """The typed error for a non-2xx answer, from either documented body shape.

    Shapes: ``{id, code, type, message, metadata?}`` (error catalogue) and ``{type, description, status}``
    (rate-limiting docs). Anything else becomes type ``"Unknown"`` with the start of the body as message.
    """
    secrets = tuple(secrets)
    parsed = _json_object(body)
    error_type = parsed.get("type") if parsed is not None else None
    if not isinstance(error_type, str) or not error_type:
        text = body.decode("utf-8", errors="replace") or "(empty body)"
        return BotpressApiError(
            type=UNKNOWN_TYPE, code=status, status=status, message=one_line(text, secrets), operation=operation
        )
    assert parsed is not None
    message = parsed.get("message", parsed.get("description"))
    code = parsed.get("code", parsed.get("status"))
    error_id = parsed.get("id")
    metadata = parsed.get("metadata")
    cls = _BY_TYPE.get(error_type, BotpressApiError)
    return cls(
        type=error_type,
        code=code if isinstance(code, int) and not isinstance(code, bool) else status,
        status=status,
        message=one_line(message if isinstance(message, str) else "(no message)", secrets),
        error_id=error_id if isinstance(error_id, str) else None,
        metadata=metadata if isinstance(metadata, dict) else None,
        operation=operation,
    )


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None
