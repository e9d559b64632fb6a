"""Slack answers read back: models out of JSON, and failed answers as the adapter error tree.

Slack answers most errors with HTTP 200 and ``{"ok": false, "error": "<code>"}``; the code decides the error
class. Rate limiting is HTTP 429 with ``Retry-After`` (retried first by the client's policy).
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from .. import safe_json
from ..errors import (
    ExternalAuthError,
    ExternalNotFoundError,
    ExternalRequestError,
    ExternalServiceError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from ..http_retry import retry_after_seconds

SERVICE = "slack"
NOT_REPEATED = "{} (outcome unknown, not repeated)"
ModelT = TypeVar("ModelT", bound=BaseModel)

AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)
NOT_FOUND_ERRORS = frozenset(
    {"channel_not_found", "thread_not_found", "message_not_found", "user_not_found", "file_not_found"}
)
# Slack's own failures: "it's possible some aspect of the operation succeeded before the error was raised".
SERVER_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})


def error_for(response: httpx.Response, method: str, *, repeatable: bool) -> ExternalServiceError:
    """The error for an HTTP failure (not 2xx); ``repeatable`` is false for a write that is not idempotent."""
    status = response.status_code
    if status == 429:
        return RateLimitedError(SERVICE, "POST", method, retry_after_seconds(response))
    if status >= 500:
        if not repeatable and status != 502:
            return OutcomeUnknownError(SERVICE, "POST", method, status, NOT_REPEATED.format("Slack failed"))
        return UnavailableError(SERVICE, "POST", method, status, "Slack failed")
    if status in (401, 403):
        return ExternalAuthError(SERVICE, "POST", method, status, "refused")
    if status == 404:
        return ExternalNotFoundError(SERVICE, "POST", method, status, "unknown method")
    return ExternalRequestError(SERVICE, "POST", method, status, response.reason_phrase or "refused")


def slack_error(response: httpx.Response, code: str, method: str, *, repeatable: bool) -> ExternalServiceError:
    """The error for an answer ``{"ok": false, "error": code}``."""
    status = response.status_code
    if code == "ratelimited":
        return RateLimitedError(SERVICE, "POST", method, retry_after_seconds(response))
    if code in AUTH_ERRORS:
        return ExternalAuthError(SERVICE, "POST", method, status, code)
    if code in NOT_FOUND_ERRORS:
        return ExternalNotFoundError(SERVICE, "POST", method, status, code)
    if code in SERVER_ERRORS:
        if not repeatable:
            return OutcomeUnknownError(SERVICE, "POST", method, status, NOT_REPEATED.format(code))
        return UnavailableError(SERVICE, "POST", method, status, code)
    return ExternalRequestError(SERVICE, "POST", method, status, code[:100])


def json_object(response: httpx.Response, method: str) -> dict[str, Any]:
    """The answer's JSON object (lone surrogates replaced), or :class:`UnavailableError` when it is not one."""
    try:
        data = safe_json.loads_body(response.content)
    except ValueError:
        raise UnavailableError(SERVICE, "POST", method, response.status_code, "response is not JSON") from None
    if not isinstance(data, dict):
        raise UnavailableError(SERVICE, "POST", method, response.status_code, "response is not an object")
    return data


def parse(model: type[ModelT], data: Any, method: str) -> ModelT:
    """``data`` as ``model``, or :class:`UnavailableError` naming where the shape was unexpected."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "(root)"
        raise UnavailableError(SERVICE, "POST", method, None, f"unexpected response shape at {where}") from None
