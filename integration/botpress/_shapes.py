"""Plumbing of the Botpress client: request bodies, response parsing, and failures of unknown outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from external_adapters.http_retry import ALWAYS_RETRIED_STATUSES
from integration.botpress._transport import JsonObject, unexpected_response
from integration.botpress.errors import BotpressApiError, BotpressOutcomeUnknownError

ModelT = TypeVar("ModelT", bound=BaseModel)


def outcome_unknown(exc: Exception) -> bool:
    """No answer, or a server-side failure (500, 504...) that may come after the write was done."""
    if isinstance(exc, BotpressApiError):
        return exc.status >= 500 and exc.status not in ALWAYS_RETRIED_STATUSES
    return isinstance(exc, BotpressOutcomeUnknownError)


def parse(model: type[ModelT], value: Any, operation: str, key: str) -> ModelT:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        what = f"{key!r} is not a valid {model.__name__} ({exc.error_count()} errors)"
        raise unexpected_response(operation, 200, what) from None


def parse_list(model: type[ModelT], value: Any, operation: str, key: str) -> list[ModelT]:
    if not isinstance(value, list):
        raise unexpected_response(operation, 200, f"{key!r} is not a list")
    return [parse(model, item, operation, key) for item in value]


def next_token(data: JsonObject) -> str | None:
    meta = data.get("meta")
    token = meta.get("nextToken") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def message_body(
    conversation_id: str, user_id: str, type: str, payload: Mapping[str, Any], tags: Mapping[str, str]
) -> JsonObject:
    return {
        "conversationId": conversation_id,
        "userId": user_id,
        "type": type,
        "payload": dict(payload),
        "tags": dict(tags),
    }


def dict_or_none(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(value) if value is not None else None


def list_or_none(value: Sequence[str] | None) -> list[str] | None:
    return list(value) if value is not None else None
