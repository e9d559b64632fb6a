"""Zendesk answers read back: models out of JSON, and failed answers as the adapter error tree."""

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
from ..http_retry import RetryPolicy, retry_after_seconds

SERVICE = "zendesk"
SUMMARY_LIMIT = 200
ModelT = TypeVar("ModelT", bound=BaseModel)

NOT_REPEATED = "{} (outcome unknown, not repeated)"
"""The summary of an :class:`OutcomeUnknownError`: what failed, and that it was not repeated."""


def error_for(
    response: httpx.Response, method: str, path: str, write_policy: RetryPolicy | None = None
) -> ExternalServiceError:
    """The error for a failed answer; ``write_policy`` is given for a write that is not idempotent."""
    status = response.status_code
    if write_policy is not None and status >= 500 and status not in write_policy.retry_statuses_any_method:
        return OutcomeUnknownError(SERVICE, method, path, status, NOT_REPEATED.format("Zendesk failed"))
    if status == 429:
        return RateLimitedError(SERVICE, method, path, retry_after_seconds(response))
    if status >= 500:
        return UnavailableError(SERVICE, method, path, status, "Zendesk failed")
    summary = error_summary(response)
    if status in (401, 403):
        return ExternalAuthError(SERVICE, method, path, status, summary)
    if status == 404:
        return ExternalNotFoundError(SERVICE, method, path, status, summary)
    return ExternalRequestError(SERVICE, method, path, status, summary)


def error_summary(response: httpx.Response) -> str:
    """One line out of a Zendesk error body: ``error: description (field: detail)``."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(body, dict):
        return response.reason_phrase or "error"
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("title") or error.get("message")
    parts = [str(part) for part in (error, body.get("description")) if part]
    details = body.get("details")
    if isinstance(details, dict):
        parts.extend(detail_lines(details))
    text = " ".join(" ".join(parts).split()) or response.reason_phrase or "error"
    return text[:SUMMARY_LIMIT]


def detail_lines(details: dict[str, Any]) -> list[str]:
    lines = []
    for field_name, problems in details.items():
        if isinstance(problems, list) and problems and isinstance(problems[0], dict):
            lines.append(f"({field_name}: {problems[0].get('description') or problems[0].get('error')})")
    return lines


def json_object(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        # Lone surrogates (an agent's text) would fail the next request that carries them on: U+FFFD instead.
        data = safe_json.loads_body(response.content)
    except ValueError:
        raise UnavailableError(SERVICE, method, path, response.status_code, "response is not JSON") from None
    return data if isinstance(data, dict) else {}


def parse(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise UnavailableError(SERVICE, "-", model.__name__, None, f"unexpected response shape at {where}") from None


def field(data: dict[str, Any], key: str, model: type[ModelT]) -> ModelT:
    return parse(model, data.get(key))
