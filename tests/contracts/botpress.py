"""Contract checks for the Botpress Runtime API: every mocked request is validated against the real OpenAPI.

Load it as a pytest plugin (``pytest_plugins = ["tests.contracts.botpress"]``) and use the ``bp_api`` fixture,
a :class:`respx.MockRouter` on :data:`BP_TEST_API_URL` that validates each Botpress request when it is sent and
again at teardown; a violation fails the test. Outside pytest, :func:`validate_botpress_request` checks one
recorded :class:`httpx.Request` (the sandbox emulator's tests use it on real traffic).

What is checked (``tests/specs/botpress/runtime-openapi-1.70.2.json``, api 1.70.2, with openapi-core):
method and path, path parameters, headers (``x-bot-id``; ``Authorization: Bearer``), query parameters, and the
JSON body, strictly (every schema is ``additionalProperties: false``). The spec does not model tag filters, so
``tags.<name>=<value>`` query keys are checked here: only on operations declaring ``tags``, values <= 500 chars.
Undeclared query keys, a body on GET/DELETE and a body without ``content-type: application/json`` are rejected too.
Mocked 2xx responses are validated loosely (unknown fields allowed: the live API adds some); error bodies must be
``{id, code, type, message, metadata?}`` with ``type`` from the catalogue and ``code`` its status.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockResponse
from pydantic import SecretStr

from external_adapters.http_retry import RetryPolicy
from integration.botpress import BotpressClient
from tests.contracts.checked_router import ContractRouter
from tests.contracts.openapi_httpx import OpenApiRequest, as_openapi_request

BP_TEST_API_URL = "https://api.botpress.cloud"
SPEC_DIR = Path(__file__).resolve().parent.parent / "specs" / "botpress"
OPENAPI_PATH = SPEC_DIR / "runtime-openapi-1.70.2.json"
METADATA_PATH = SPEC_DIR / "runtime-metadata-1.70.2.json"
TAG_VALUE_MAX = 500
INTEGRATION_HEADERS = ("x-integration-id", "x-integration-alias")
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_BEARER = re.compile(r"^Bearer \S+$")
_MAX_DETAIL = 240


# --- the specs, loaded once per process -------------------------------------------------------------------------


@functools.cache
def _spec_dict() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(OPENAPI_PATH.read_text())
    return loaded


@functools.cache
def _strict_openapi() -> OpenAPI:
    return OpenAPI.from_dict(copy.deepcopy(_spec_dict()))


@functools.cache
def _loose_openapi() -> OpenAPI:
    """The same spec with ``additionalProperties: false`` lifted, for responses of a newer live API."""
    return OpenAPI.from_dict(_without_closed_objects(copy.deepcopy(_spec_dict())))


def _without_closed_objects(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for value in node.values():
            _without_closed_objects(value)
    elif isinstance(node, list):
        for value in node:
            _without_closed_objects(value)
    return node


@functools.cache
def error_catalogue() -> dict[str, int]:
    """Error type -> HTTP status, from the runtime metadata."""
    metadata = json.loads(METADATA_PATH.read_text())
    return {entry["type"]: entry["status"] for entry in metadata["errors"]}


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    query_params: frozenset[str]


@functools.cache
def _operations() -> tuple[_Operation, ...]:
    found = []
    for template, item in _spec_dict()["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            params = [*shared, *operation.get("parameters", [])]
            query = frozenset(p["name"] for p in params if p["in"] == "query")
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            found.append(_Operation(method.upper(), template, re.compile(f"^{regex}$"), query))
    # Literal segments win over templated ones (``/users/get-or-create`` before ``/users/{id}``).
    return tuple(sorted(found, key=lambda op: op.template.count("{")))


def _find_operation(method: str, path: str) -> _Operation | None:
    return next((op for op in _operations() if op.method == method and op.pattern.match(path)), None)


# --- request validation -----------------------------------------------------------------------------------------


def _path_of(request: httpx.Request, base_url: str | None) -> str:
    # Still percent-encoded, so an id holding "/" stays one path segment.
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    prefix = urlsplit(base_url).path.rstrip("/") if base_url else ""
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return path


def _as_openapi_request(request: httpx.Request, path: str) -> OpenApiRequest:
    # Tag filters are checked by hand: the spec does not model `tags.<key>` query parameters.
    host_url = _spec_dict()["servers"][0]["url"]
    return as_openapi_request(request, host_url=host_url, path=path, keep_query=lambda key: not key.startswith("tags."))


def validate_botpress_request(
    request: httpx.Request, *, base_url: str | None = None, require_integration_headers: bool = True
) -> None:
    """Raise :class:`AssertionError` naming every way ``request`` breaks the Runtime API contract.

    ``base_url`` is the API root the request was sent to; its path prefix (e.g. an emulator mounted under
    ``/sandbox/bp``) is stripped before matching. ``require_integration_headers`` demands the integration's
    identity headers, which the SDK always sends and the spec leaves optional.
    """
    path = _path_of(request, base_url)
    problems = _openapi_problems(request, path)
    operation = _find_operation(request.method.upper(), path)
    if operation is not None:
        problems += _query_problems(request, operation)
    problems += _header_problems(request, require_integration_headers)
    if problems:
        listing = "\n  - ".join(problems)
        raise AssertionError(f"Botpress contract violated by {request.method} {request.url}:\n  - {listing}")


def _openapi_problems(request: httpx.Request, path: str) -> list[str]:
    try:
        _strict_openapi().validate_request(_as_openapi_request(request, path))
    except OpenAPIError as exc:
        return [_describe(exc)]
    return []


def _describe(exc: BaseException) -> str:
    schema_errors = getattr(exc.__cause__, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if not schema_errors:
        return _short(f"{type(exc).__name__}: {exc}")
    details = [_short(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}") for e in schema_errors]
    summary = str(exc) if len(str(exc)) <= 80 else type(exc).__name__  # body errors repeat the whole body
    return f"{summary}: " + "; ".join(details)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _query_problems(request: httpx.Request, operation: _Operation) -> list[str]:
    problems = []
    for key, value in request.url.params.multi_items():
        if key.startswith("tags."):
            problems += _tag_filter_problems(key, value, operation)
        elif key == "tags" or key not in operation.query_params:
            hint = " (send tag filters as tags.<name>=<value>)" if key.startswith("tags") else ""
            problems.append(f"query parameter {key!r} is not declared by {operation.template}{hint}")
    return problems


def _tag_filter_problems(key: str, value: str, operation: _Operation) -> list[str]:
    if "tags" not in operation.query_params:
        return [f"tag filter {key!r}: {operation.method} {operation.template} does not filter by tags"]
    if not key[len("tags.") :]:
        return [f"tag filter {key!r} has no tag name"]
    if len(value) > TAG_VALUE_MAX:
        return [f"tag filter {key!r}: value is {len(value)} chars, more than {TAG_VALUE_MAX}"]
    return []


def _header_problems(request: httpx.Request, require_integration_headers: bool) -> list[str]:
    problems = []
    if not _BEARER.match(request.headers.get("authorization", "")):
        problems.append("Authorization must be 'Bearer <token>'")
    if require_integration_headers:
        problems += [f"missing header {name}" for name in INTEGRATION_HEADERS if not request.headers.get(name)]
    has_body = bool(request.content)
    if has_body and request.method.upper() in _BODYLESS_METHODS:
        problems.append(f"{request.method} must not carry a body")
    content_type = request.headers.get("content-type")
    if has_body and (content_type or "").split(";")[0].strip().lower() != "application/json":
        problems.append(f"a body needs content-type application/json, got {content_type!r}")
    if content_type and not has_body:
        problems.append("content-type sent without a body")
    return problems


# --- response validation ----------------------------------------------------------------------------------------

_ERROR_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "code", "type", "message"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "code": {"type": "integer"},
        "type": {"type": "string"},
        "message": {"type": "string"},
        "metadata": {"type": "object"},
    },
    "additionalProperties": False,
}


def validate_botpress_error_body(body: Any, *, status: int | None = None) -> None:
    """Raise :class:`AssertionError` unless ``body`` is a catalogue error ``{id, code, type, message, metadata?}``."""
    errors = [_short(e.message) for e in jsonschema.Draft7Validator(_ERROR_BODY_SCHEMA).iter_errors(body)]
    if not errors:
        expected = error_catalogue().get(body["type"])
        if expected is None:
            errors.append(f"type {body['type']!r} is not in the error catalogue")
        elif body["code"] != expected:
            errors.append(f"code {body['code']} does not match {body['type']}'s status {expected}")
        if status is not None and body["code"] != status:
            errors.append(f"code {body['code']} differs from the HTTP status {status}")
    if errors:
        raise AssertionError("not a Botpress error body: " + "; ".join(errors))


def validate_botpress_response(
    request: httpx.Request, response: httpx.Response, *, base_url: str | None = None
) -> None:
    """Check a (mocked) answer: 2xx bodies loosely against the spec, others as catalogue error bodies."""
    if not response.is_success:
        _check_error_response(response)
        return
    openapi_request = _as_openapi_request(request, _path_of(request, base_url))
    mock = MockResponse(response.content, status_code=response.status_code, content_type="application/json")
    try:
        _loose_openapi().validate_response(openapi_request, mock)
    except OpenAPIError as exc:
        raise AssertionError(f"mocked {request.method} {request.url.path} response: {_describe(exc)}") from None


_GATEWAY_STATUSES = frozenset({502, 503, 504})


def _check_error_response(response: httpx.Response) -> None:
    try:
        body = json.loads(response.content)
    except ValueError:
        if response.status_code in _GATEWAY_STATUSES:
            return  # a proxy in front of the API may answer with anything
        raise AssertionError(f"Botpress error response is not JSON: {response.content[:100]!r}") from None
    if _is_documented_alternative(body):
        return
    validate_botpress_error_body(body, status=response.status_code)


def _is_documented_alternative(body: Any) -> bool:
    """The rate-limiting docs' ``{type, description, status}`` shape, which the client parses too."""
    return (
        isinstance(body, dict)
        and set(body) == {"type", "description", "status"}
        and error_catalogue().get(body["type"]) == body["status"]
    )


# --- the respx router and fixture -------------------------------------------------------------------------------


class BotpressMockRouter(ContractRouter):
    """A respx router that refuses (and remembers) any request or mocked response breaking the contract.

    Set ``check_responses = False`` in a test that deliberately mocks a malformed Botpress answer.
    """

    def covers(self, request: httpx.Request) -> bool:
        """The Botpress Runtime API."""
        return str(request.url).startswith(BP_TEST_API_URL + "/")

    def validate_request(self, request: httpx.Request) -> None:
        """See :func:`validate_botpress_request`."""
        validate_botpress_request(request)

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """See :func:`validate_botpress_response`."""
        validate_botpress_response(request, response)


@pytest.fixture
def bp_api() -> Iterator[BotpressMockRouter]:
    """A respx router for the Botpress Runtime API; any request breaking the contract fails the test."""
    router = BotpressMockRouter(base_url=BP_TEST_API_URL, assert_all_mocked=True, assert_all_called=False)
    with router:
        yield router
        violations = router.recheck_calls()
    fail_on_violations(violations)


def fail_on_violations(violations: list[str]) -> None:
    """Fail the running test when the router saw any contract violation."""
    if violations:
        pytest.fail("Botpress contract violations:\n" + "\n".join(violations), pytrace=False)


TEST_TOKEN = "bp_pat_TEST0123456789abcdefTOKEN"
TEST_BOT_ID = "bot_01JTEST000000000000000000000"
TEST_INTEGRATION_ID = "intver_01JTEST00000000000000000000"
TEST_INTEGRATION_ALIAS = "hitl-bridge"


class RecordedSleeps(list[float]):
    """An injectable ``sleep`` that records the waits instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def bp_sleeps() -> RecordedSleeps:
    """The waits the ``bp_client`` fixture's retries asked for."""
    return RecordedSleeps()


@pytest.fixture
async def bp_client(bp_api: BotpressMockRouter, bp_sleeps: RecordedSleeps) -> AsyncIterator[BotpressClient]:
    """A :class:`BotpressClient` talking to ``bp_api``, with the test ids and token, never really sleeping."""
    async with httpx.AsyncClient() as http:
        yield make_bp_client(http, bp_sleeps)


def make_bp_client(http: httpx.AsyncClient, sleeps: RecordedSleeps, retry: RetryPolicy | None = None) -> BotpressClient:
    """A client with the test ids and token that records its retry waits instead of sleeping."""
    return BotpressClient(
        http,
        base_url=BP_TEST_API_URL,
        token=SecretStr(TEST_TOKEN),
        bot_id=TEST_BOT_ID,
        integration_id=TEST_INTEGRATION_ID,
        integration_alias=TEST_INTEGRATION_ALIAS,
        retry=retry or RetryPolicy(),
        sleep=sleeps,
    )


# --- response builders ------------------------------------------------------------------------------------------

_counter = itertools.count(1)
FIXED_TIME = "2025-01-01T12:00:00.000Z"


def bp_id(prefix: str) -> str:
    """A fresh Botpress-looking id (``user_01J...``), 28 to 36 chars as the API's ids are."""
    return f"{prefix}_01J{next(_counter):023d}"


def bp_now() -> str:
    """The current time as the API writes it (ISO 8601, milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bp_json(body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A JSON response as the API sends it."""
    return httpx.Response(status, json=dict(body), headers=dict(headers or {}))


def bp_error(
    error_type: str, message: str = "", *, headers: Mapping[str, str] | None = None, **extra: Any
) -> httpx.Response:
    """A catalogue error response, e.g. ``bp_error("RateLimited", headers={"Retry-After": "2"})`` (429)."""
    code = error_catalogue()[error_type]
    body = {"id": bp_id("err"), "code": code, "type": error_type, "message": message or f"{error_type} error"}
    return httpx.Response(code, json={**body, **extra}, headers=dict(headers or {}))


def bp_page(key: str, items: list[dict[str, Any]], next_token: str | None = None) -> httpx.Response:
    """One page of a list operation: ``{<key>: [...], meta: {nextToken?}}``."""
    meta = {"nextToken": next_token} if next_token else {}
    return bp_json({key: items, "meta": meta})


def _times(created_at: str | None) -> dict[str, str]:
    return {"createdAt": created_at or FIXED_TIME, "updatedAt": created_at or FIXED_TIME}


def bp_user(
    id: str | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    name: str | None = None,
    picture_url: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """A ``User`` object valid against the spec."""
    user: dict[str, Any] = {"id": id or bp_id("user"), **_times(created_at), "tags": dict(tags or {})}
    user.update({k: v for k, v in (("name", name), ("pictureUrl", picture_url)) if v is not None})
    return user


def bp_conversation(
    id: str | None = None,
    *,
    channel: str = "hitl",
    tags: Mapping[str, str] | None = None,
    integration: str = "hitl-bridge",
    created_at: str | None = None,
) -> dict[str, Any]:
    """A ``Conversation`` object valid against the spec."""
    return {
        "id": id or bp_id("conv"),
        **_times(created_at),
        "channel": channel,
        "integration": integration,
        "tags": dict(tags or {}),
    }


def bp_message(
    id: str | None = None,
    *,
    conversation_id: str | None = None,
    user_id: str | None = None,
    type: str = "text",
    payload: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    direction: str = "incoming",
    created_at: str | None = None,
) -> dict[str, Any]:
    """A ``Message`` object valid against the spec."""
    return {
        "id": id or bp_id("msg"),
        **_times(created_at),
        "type": type,
        "payload": dict(payload if payload is not None else {"text": "hello"}),
        "direction": direction,
        "userId": user_id or bp_id("user"),
        "conversationId": conversation_id or bp_id("conv"),
        "tags": dict(tags or {}),
    }


def bp_event(
    id: str | None = None,
    *,
    type: str = "hitlAssigned",
    payload: Mapping[str, Any] | None = None,
    conversation_id: str | None = None,
    user_id: str | None = None,
    message_id: str | None = None,
    status: str = "pending",
    created_at: str | None = None,
) -> dict[str, Any]:
    """An ``Event`` object valid against the spec."""
    event: dict[str, Any] = {
        "id": id or bp_id("evt"),
        "createdAt": created_at or FIXED_TIME,
        "type": type,
        "payload": dict(payload or {}),
        "status": status,
        "failureReason": None,
    }
    links = (("conversationId", conversation_id), ("userId", user_id), ("messageId", message_id))
    event.update({k: v for k, v in links if v is not None})
    return event


def bp_state(
    type: str = "integration",
    id: str | None = None,
    name: str = "state",
    payload: Mapping[str, Any] | None = None,
    *,
    bot_id: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """A ``State`` object valid against the spec (``id`` is the owner's id; ``conversationId``/``userId`` follow it)."""
    owner_id = id or bp_id(type[:4])
    state: dict[str, Any] = {
        "id": bp_id("state"),
        **_times(created_at),
        "botId": bot_id or bp_id("bot"),
        "name": name,
        "type": type,
        "payload": dict(payload or {}),
    }
    if type in ("conversation", "user"):
        state[f"{type}Id"] = owner_id
    return state
