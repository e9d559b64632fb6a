"""HTTP plumbing of the Botpress client: headers, query encoding, retries and error mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from external_adapters import safe_json
from external_adapters.http_retry import RetryPolicy, method_is_idempotent, outcome_unknown, send_with_retries
from integration.botpress.errors import (
    UNKNOWN_TYPE,
    BotpressApiError,
    BotpressOutcomeUnknownError,
    BotpressUnavailableError,
    error_from_body,
    one_line,
)

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]
TRACE_HEADERS = ("traceparent", "tracestate")


def path_of(*segments: str) -> str:
    """``/v1/chat/<segments...>`` with each segment percent-encoded (ids and state names are user data)."""
    return "/v1/chat/" + "/".join(quote(segment, safe="") for segment in segments)


def encode_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Encode like the SDK (``qs`` with ``allowDots`` and ``arrayFormat: repeat``).

    ``{"channel": "hitl", "tags": {"id": "1"}, "ids": ["a", "b"], "x": None}`` gives
    ``channel=hitl&tags.id=1&ids=a&ids=b``: mappings become dotted keys, lists repeat, ``None`` is dropped.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode_value(key, value, pairs)
    return pairs


def _encode_value(key: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _encode_value(f"{key}.{sub_key}", sub_value, pairs)
    elif isinstance(value, list | tuple):
        for item in value:
            _encode_value(key, item, pairs)
    elif isinstance(value, bool):
        pairs.append((key, "true" if value else "false"))
    else:
        pairs.append((key, str(value)))


def compact(**fields: Any) -> JsonObject:
    """The given fields without the ``None`` ones (the API treats absent and unset differently)."""
    return {key: value for key, value in fields.items() if value is not None}


class Transport:
    """Sends one Runtime API call with the SDK's headers and retry rules, and maps failures to typed errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        headers: Mapping[str, str],
        secrets: tuple[str, ...],
        retry: RetryPolicy,
        sleep: Sleep | None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._secrets = secrets
        self._retry = retry
        self._sleep = sleep

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: JsonObject | None = None,
        idempotent: bool | None = None,
    ) -> JsonObject:
        """Send the request (retrying per policy) and return the JSON object of a 2xx answer.

        ``idempotent`` (default: by the HTTP method) says whether repeating the call is harmless; one that is not
        is repeated only when the request surely never reached Botpress, and a lost answer raises
        :class:`BotpressOutcomeUnknownError` (see :mod:`external_adapters.http_retry`).
        """
        operation = f"{method} {path}"
        request = self._build(method, path, query, body)
        repeatable = method_is_idempotent(method) if idempotent is None else idempotent

        async def attempt() -> httpx.Response:
            return await self._http.send(request)

        try:
            response = await send_with_retries(attempt, self._retry, idempotent=repeatable, sleep=self._sleep)
        except httpx.TransportError as exc:
            reason = one_line(f"{type(exc).__name__}: {exc}", self._secrets)
            if not repeatable and outcome_unknown(exc):
                raise BotpressOutcomeUnknownError(operation, f"{reason} (outcome unknown, not repeated)") from None
            raise BotpressUnavailableError(operation, reason) from None
        if not response.is_success:
            log.debug("Botpress %s -> %s", operation, response.status_code)
            raise error_from_body(response.status_code, response.content, operation=operation, secrets=self._secrets)
        return self._json(response, operation)

    def _build(self, method: str, path: str, query: Mapping[str, Any] | None, body: JsonObject | None) -> httpx.Request:
        headers = dict(self._headers)
        content: bytes | None = None
        if body is not None:
            headers["content-type"] = "application/json"
            content = json.dumps(body, separators=(",", ":")).encode()
        params = httpx.QueryParams(tuple(encode_query(query))) if query else None
        return self._http.build_request(method, self._base_url + path, params=params, headers=headers, content=content)

    def _json(self, response: httpx.Response, operation: str) -> JsonObject:
        try:
            # Lone surrogates in an answer would fail the next request that carries them on: U+FFFD instead.
            parsed = safe_json.loads_body(response.content)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise unexpected_response(operation, response.status_code, "the body is not a JSON object")
        return parsed


def unexpected_response(operation: str, status: int, what: str) -> BotpressApiError:
    """The error for a 2xx answer we cannot read (the API broke its own contract)."""
    return BotpressApiError(
        type=UNKNOWN_TYPE, code=status, status=status, message=f"unexpected response: {what}", operation=operation
    )


def build_headers(
    *,
    token: SecretStr | None,
    bot_id: str,
    integration_id: str,
    integration_alias: str,
    trace_headers: Mapping[str, str] | None,
) -> dict[str, str]:
    """The headers every call carries; only the W3C trace headers are taken from ``trace_headers``."""
    headers = {"x-bot-id": bot_id, "x-integration-id": integration_id, "x-integration-alias": integration_alias}
    if token is not None:
        headers["authorization"] = f"Bearer {token.get_secret_value()}"
    lowered = {key.lower(): value for key, value in (trace_headers or {}).items()}
    headers.update({name: lowered[name] for name in TRACE_HEADERS if lowered.get(name)})
    return headers
