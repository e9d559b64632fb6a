"""Contract checks for the Slack Web API: every mocked request is validated against hand-written JSON Schemas.

Use :class:`SlackMockRouter` (the ``slack_api`` fixture of the Slack tests makes one): a :class:`respx.MockRouter`
that validates each request to :data:`SLACK_TEST_URL` and to the upload host when it is sent and again at
teardown; a violation fails the test. :func:`validate_slack_request` checks one recorded :class:`httpx.Request`.

What is checked, per method (``tests/contracts/slack/<method>.json``, see PROVENANCE.md there): the HTTP method,
the encoding (query, JSON or form), the arguments against the method's schema (unknown arguments, types, Slack's
limits: 50 blocks, 3000 characters per section, 150 per header, 40,000 of text, metadata's shape), JSON-valued
form fields (``x-json``). By hand: ``Authorization: Bearer xoxb-...`` on every Web API call, the JSON
content type, and the upload POST (a body and the file's MIME type, no token). 2xx mocked answers are validated
against the method's ``response`` schema when they say ``"ok": true``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema

from tests.contracts.checked_router import ContractRouter

SLACK_TEST_URL = "https://slack.com/api"
UPLOAD_HOST = "https://files.slack.com"
SCHEMAS = Path(__file__).resolve().parent / "slack"
_AUTH = re.compile(r"^Bearer xoxb-[A-Za-z0-9-]+$")
_MAX_DETAIL = 300


@functools.cache
def contract(method: str) -> dict[str, Any] | None:
    """The contract of one Web API method, or ``None`` when this suite knows no such method."""
    path = SCHEMAS / f"{method}.json"
    if not re.fullmatch(r"[a-zA-Z.]+", method) or not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def known_methods() -> list[str]:
    """Every method with a contract."""
    return sorted(path.stem for path in SCHEMAS.glob("*.json"))


def validate_slack_request(request: httpx.Request) -> None:
    """Raise :class:`AssertionError` naming every way ``request`` breaks the Slack API contract."""
    is_upload = str(request.url).startswith(UPLOAD_HOST + "/")
    problems = _upload_problems(request) if is_upload else _api_problems(request)
    if problems:
        listing = "\n  - ".join(problems)
        raise AssertionError(f"Slack contract violated by {request.method} {request.url}:\n  - {listing}")


def _api_problems(request: httpx.Request) -> list[str]:
    method = request.url.path.rsplit("/", 1)[-1]
    spec = contract(method)
    if spec is None:
        return [f"{method} is not a Web API method this contract knows"]
    problems = []
    if not _AUTH.match(request.headers.get("authorization", "")):
        problems.append("Authorization must be 'Bearer xoxb-...'")
    if request.method != spec["http_method"]:
        problems.append(f"{method} is called with {spec['http_method']}, not {request.method}")
        return problems
    arguments, encoding_problems = _arguments(request, spec["encoding"])
    problems += encoding_problems
    if arguments is not None:
        problems += schema_problems(spec["request"], arguments)
    return problems


def _arguments(request: httpx.Request, encoding: str) -> tuple[Any, list[str]]:
    content_type = request.headers.get("content-type", "")
    if encoding == "query":
        body_problem = ["a GET carries no body"] if request.content else []
        return dict(request.url.params.multi_items()), body_problem
    if request.url.query:
        return None, ["a POST carries its arguments in the body, not the query"]
    if encoding == "json":
        if not content_type.startswith("application/json"):
            return None, [f"a JSON body needs content-type application/json, got {content_type!r}"]
        try:
            return json.loads(request.content), []
        except ValueError:
            return None, ["the body is not JSON"]
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return None, [f"a form needs content-type application/x-www-form-urlencoded, got {content_type!r}"]
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True)), []


def schema_problems(schema: dict[str, Any], value: Any) -> list[str]:
    """Every way ``value`` breaks ``schema``, and its ``x-json`` fields their own schemas."""
    problems = [_describe(e) for e in jsonschema.Draft202012Validator(schema).iter_errors(value)]
    for name, field in (schema.get("properties") or {}).items():
        if "x-json" in field and isinstance(value, dict) and isinstance(value.get(name), str):
            try:
                inner = json.loads(value[name])
            except ValueError:
                problems.append(f"{name} must be a JSON string")
                continue
            problems += [f"{name}: {problem}" for problem in schema_problems(field["x-json"], inner)]
    return problems


def _describe(error: jsonschema.ValidationError) -> str:
    """Where and which rule; for a block that fits no block type, the closest type's complaint."""
    if error.context:
        error = _closest(error.context)
    where = "/".join(map(str, error.absolute_path)) or "(root)"
    message = error.message if len(error.message) <= 200 else f"breaks {error.validator} {error.validator_value!r}"
    return _short(f"at {where}: {message}")


def _closest(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    """Among a ``oneOf``'s branch errors, one of the branch whose ``type`` matched (the block's own type)."""
    branches: dict[object, list[jsonschema.ValidationError]] = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    for branch in branches.values():
        if not any(e.validator == "const" for e in branch):
            return branch[0]
    return errors[0]


def _upload_problems(request: httpx.Request) -> list[str]:
    problems = []
    if request.method != "POST":
        problems.append("the upload URL takes a POST")
    if "authorization" in request.headers:
        problems.append("the upload URL is pre-signed: no token goes to it")
    if not request.content:
        problems.append("the upload needs the file bytes as the body")
    content_type = request.headers.get("content-type", "")
    if not content_type or content_type.startswith("application/json"):
        problems.append(f"the upload needs the file's MIME type, got {content_type!r}")
    return problems


def validate_slack_response(request: httpx.Request, response: httpx.Response) -> None:
    """Check a mocked successful (``"ok": true``) answer of a Web API method against its contract."""
    if str(request.url).startswith(UPLOAD_HOST + "/") or not response.is_success:
        return
    spec = contract(request.url.path.rsplit("/", 1)[-1])
    body = json.loads(response.content) if response.content else None
    if spec is None or not isinstance(body, dict) or body.get("ok") is not True:
        return
    problems = schema_problems(spec["response"], body)
    if problems:
        raise AssertionError(f"mocked {spec['method']} answer: " + "; ".join(problems))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


class SlackMockRouter(ContractRouter):
    """A respx router that refuses (and remembers) any Slack request or mocked answer breaking the contract."""

    def covers(self, request: httpx.Request) -> bool:
        """Slack's Web API and its upload host."""
        return str(request.url).startswith((SLACK_TEST_URL + "/", UPLOAD_HOST + "/upload/"))

    def validate_request(self, request: httpx.Request) -> None:
        """See :func:`validate_slack_request`."""
        validate_slack_request(request)

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """See :func:`validate_slack_response`."""
        validate_slack_response(request, response)
