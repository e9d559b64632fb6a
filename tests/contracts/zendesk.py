"""Contract checks for the Zendesk APIs: every mocked request is validated against the relaxed Support OpenAPI.

Load it as a pytest plugin (``pytest_plugins = ["tests.contracts.zendesk"]``; the shared conftest does) and use
the ``zendesk_api`` fixture, a :class:`respx.MockRouter` on :data:`ZD_TEST_URL` that validates each Zendesk
request when it is sent and again at teardown; a violation fails the test. :func:`validate_zendesk_request`
checks one recorded :class:`httpx.Request`.

What is checked: the Support API (``tests/specs/zendesk/support-oas-relaxed.yaml``, see its PROVENANCE.md) with
openapi-core: method, path (a ``.json`` suffix is stripped first), path and query parameters, JSON bodies (bad
enums, wrong types, missing required fields; unknown fields are not caught by the spec). By hand: the
``Authorization`` header (``Basic`` or ``Bearer``), ``content-type: application/json`` on JSON bodies, no body on
GET/DELETE, and ``POST /api/v2/uploads`` (``filename`` query parameter, a non-JSON MIME type, a body). The
Webhooks API is not in the spec: its requests are checked against the small JSON Schemas below, written from
the Webhooks API reference. 2xx mocked responses of Support API operations are validated against the spec too.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockResponse

from tests.contracts.checked_router import ContractRouter
from tests.contracts.openapi_httpx import OpenApiRequest, as_openapi_request

ZD_TEST_URL = "https://acme.zendesk.com"
SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "zendesk" / "support-oas-relaxed.yaml"
_BODYLESS = frozenset({"GET", "HEAD", "DELETE"})
_AUTH = re.compile(r"^(Basic [A-Za-z0-9+/=]+|Bearer \S+)$")
_MAX_DETAIL = 300

# --- the Webhooks API, by hand (developer.zendesk.com/api-reference/webhooks/webhooks-api/webhooks) -----------

_WEBHOOK_ID = r"[A-Za-z0-9]{1,64}"
_WEBHOOK_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["webhook"],
    "additionalProperties": False,
    "properties": {
        "webhook": {
            "type": "object",
            "required": ["name", "endpoint", "http_method", "request_format", "status"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "endpoint": {"type": "string", "pattern": "^https?://"},
                "http_method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "request_format": {"enum": ["json", "xml", "form_encoded"]},
                "status": {"enum": ["active", "inactive"]},
                "subscriptions": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "authentication": {"type": "object"},
                "custom_headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "signing_secret": {"type": "object"},
            },
        }
    },
}
# (method, path pattern) -> JSON Schema of the body, or None for "no body".
WEBHOOK_OPERATIONS: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", r"/api/v2/webhooks"): _WEBHOOK_BODY,
    ("GET", r"/api/v2/webhooks"): None,
    ("GET", rf"/api/v2/webhooks/{_WEBHOOK_ID}"): None,
    ("DELETE", rf"/api/v2/webhooks/{_WEBHOOK_ID}"): None,
    ("GET", rf"/api/v2/webhooks/{_WEBHOOK_ID}/signing_secret"): None,
    ("POST", rf"/api/v2/webhooks/{_WEBHOOK_ID}/signing_secret"): None,
}


@functools.cache
def _openapi() -> OpenAPI:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    spec["servers"] = [{"url": ZD_TEST_URL}]
    # The spec declares Basic auth only; Zendesk also takes OAuth access tokens as Bearer.
    spec["components"]["securitySchemes"]["bearerAuth"] = {"type": "http", "scheme": "bearer"}
    spec["security"] = [{"basicAuth": []}, {"bearerAuth": []}]
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def support_path(request: httpx.Request) -> str:
    """The request path without a ``.json`` suffix (the OAS has none; Zendesk accepts both)."""
    path = request.url.path
    return path[: -len(".json")] if path.endswith(".json") else path


def _as_openapi(request: httpx.Request) -> OpenApiRequest:
    return as_openapi_request(
        request, host_url=ZD_TEST_URL, path=support_path(request), default_content_type="application/json"
    )


def validate_zendesk_request(request: httpx.Request) -> None:
    """Raise :class:`AssertionError` naming every way ``request`` breaks the Zendesk API contract."""
    path = support_path(request)
    problems = _header_problems(request)
    if path.startswith("/api/v2/webhooks"):
        problems += _webhook_problems(request, path)
    else:
        problems += _openapi_problems(request)
        if path == "/api/v2/uploads":
            problems += _upload_problems(request)
    if problems:
        listing = "\n  - ".join(problems)
        raise AssertionError(f"Zendesk contract violated by {request.method} {request.url}:\n  - {listing}")


def _openapi_problems(request: httpx.Request) -> list[str]:
    try:
        _openapi().validate_request(_as_openapi(request))
    except OpenAPIError as exc:
        return [_describe(exc)]
    return []


def _webhook_problems(request: httpx.Request, path: str) -> list[str]:
    if request.url.path.endswith(".json"):
        return ["the Webhooks API must be called without a .json suffix"]
    for (method, pattern), schema in WEBHOOK_OPERATIONS.items():
        if method == request.method and re.fullmatch(pattern, path):
            return _body_problems(request, schema)
    return [f"{request.method} {path} is not a Webhooks API operation this contract knows"]


def _body_problems(request: httpx.Request, schema: dict[str, Any] | None) -> list[str]:
    if schema is None:
        return ["this operation takes no body"] if request.content else []
    try:
        body = json.loads(request.content)
    except ValueError:
        return ["the body is not JSON"]
    return [
        _short(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")
        for e in jsonschema.Draft7Validator(schema).iter_errors(body)
    ]


def _upload_problems(request: httpx.Request) -> list[str]:
    problems = []
    if not request.url.params.get("filename"):
        problems.append("uploads need a filename query parameter")
    content_type = request.headers.get("content-type", "")
    if not content_type or content_type.startswith("application/json"):
        problems.append(f"uploads need the file's real MIME type, got {content_type!r}")
    if not request.content:
        problems.append("uploads need the file bytes as the body")
    return problems


def _header_problems(request: httpx.Request) -> list[str]:
    problems = []
    if not _AUTH.match(request.headers.get("authorization", "")):
        problems.append("Authorization must be 'Basic <base64>' or 'Bearer <token>'")
    if request.content and request.method in _BODYLESS:
        problems.append(f"{request.method} must not carry a body")
    is_upload = support_path(request) == "/api/v2/uploads"
    content_type = request.headers.get("content-type", "")
    if request.content and not is_upload and not content_type.startswith("application/json"):
        problems.append(f"a JSON body needs content-type application/json, got {content_type!r}")
    return problems


def validate_zendesk_response(request: httpx.Request, response: httpx.Response) -> None:
    """Check a mocked 2xx answer of a Support API operation against the (relaxed) spec."""
    path = support_path(request)
    if not response.is_success or path.startswith("/api/v2/webhooks") or not response.content:
        return
    mock = MockResponse(response.content, status_code=response.status_code, content_type="application/json")
    try:
        _openapi().validate_response(_as_openapi(request), mock)
    except OpenAPIError as exc:
        raise AssertionError(f"mocked {request.method} {path} response: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    schema_errors = getattr(exc.__cause__, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if not schema_errors:
        return _short(f"{type(exc).__name__}: {exc}")
    details = [_short(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}") for e in schema_errors]
    return f"{type(exc).__name__}: " + "; ".join(details)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


class ZendeskMockRouter(ContractRouter):
    """A respx router that refuses (and remembers) any Zendesk request or mocked response breaking the contract."""

    def covers(self, request: httpx.Request) -> bool:
        """The test account's API."""
        return str(request.url).startswith(ZD_TEST_URL + "/")

    def validate_request(self, request: httpx.Request) -> None:
        """See :func:`validate_zendesk_request`."""
        validate_zendesk_request(request)

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """See :func:`validate_zendesk_response`."""
        validate_zendesk_response(request, response)


@pytest.fixture
def zendesk_api() -> Iterator[ZendeskMockRouter]:
    """A respx router for ``https://acme.zendesk.com``; any request breaking the Zendesk contract fails the test."""
    router = ZendeskMockRouter(base_url=ZD_TEST_URL, assert_all_mocked=True, assert_all_called=False)
    with router:
        yield router
        violations = router.recheck_calls()
    if violations:
        pytest.fail("Zendesk contract violations:\n" + "\n".join(violations), pytrace=False)
