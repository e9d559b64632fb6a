"""Seeded fuzzing of every route of the real app: hostile input never gets a 5xx, a traceback or a dead server.

Inbox mode (console and admin API mounted) and Zendesk mode. Every operation, every action, the hitl channel's
``message_created``, ``webhook_received`` (signed, for Zendesk, so the parser is reached) and every route of the
app's router, enumerated, so that a new route is fuzzed without being listed here. Allowed: any status below
500, and the SDK's own ``500 {"error": ...}`` for a bad ``x-*`` header. Every other JSON error body, of every
route (operations, webhooks, console, admin API), carries ``code`` equal to its HTTP status. (The sandbox is not
mounted here; its emulated Runtime API answers Botpress's ``{id, code, type, message}``.) After each example
``/health`` still answers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st
from yarl import URL

from external_adapters.inbox import InboxService
from external_adapters.zendesk.webhooks import sign
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from tests import conftest
from tests.external_adapters.inbox.conftest import PASSWORD, cheap_password_hashes
from tests.factories import action_body, message_created_body, runtime_headers
from tests.fuzz_inputs import HOSTILE_TEXT, Body, Upstream, body_of, shaped, url_part

__all__ = ["cheap_password_hashes"]  # autouse here too
ADMIN_TOKEN = "fuzz-admin-token-0123456789"
ZENDESK_CONFIG = {"adapter": "zendesk", "subdomain": "acme", "email": "bot@acme.test", "apiToken": "zd-token-123"}
INBOX_CONFIG = {"adapter": "inbox"}
OPERATIONS = [
    "register",
    "unregister",
    "ping",
    "action_triggered",
    "message_created",
    "message_updated",
    "conversation_updated",
    "webhook_received",
    "create_user",
    "create_conversation",
    "no_such_operation",
]
FUZZ = settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failing example is small already, and shrinking is slow
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
HEADERS = ["x-bot-id", "x-integration-id", "x-bp-configuration", "x-bp-operation", "traceparent"]
BAD_HEADERS = [
    " ",
    "caf\u00e9",
    "%%%",
    base64.b64encode(b"[]").decode(),
    base64.b64encode(b'{"adapter": "\\ud800"}').decode(),
    base64.b64encode(b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}").decode(),
    "x" * 300,
]
ROUTE_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


class Harness:
    """The real app on a real socket, against the upstream fakes, with one user and one session that exist."""

    def __init__(self, client: TestClient[Any, Any], upstream: Upstream, configuration: dict[str, Any]) -> None:
        self.client, self.upstream, self.configuration = client, upstream, configuration
        self.ids: dict[str, str] = {}

    async def operation(self, operation: str, body: str | bytes, **headers: str) -> None:
        all_headers = runtime_headers(operation, self.configuration) | headers
        response = await self.client.post("/", data=body, headers=all_headers)
        await check(response, allow_header_error=True)

    async def setup(self) -> None:
        """Register, link Jane and open her session, as the runtime would: later bodies reuse these ids."""
        call = self.client.post
        await call("/", data='{"webhookUrl": "https://hooks.example.com/wh"}', headers=self._headers("register"))
        created = await call("/", data=action_body("createUser", JANE), headers=self._headers("action_triggered"))
        user_id = (await created.json())["output"]["userId"]
        start = action_body("startHitl", {"userId": user_id, "title": "Refund", "messageHistory": []})
        started = await call("/", data=start, headers=self._headers("action_triggered"))
        conversation_id = (await started.json())["output"]["conversationId"]
        session_id = self.upstream.botpress.conversations[conversation_id]["tags"]["id"]
        self.ids = {"user": user_id, "conversation": conversation_id, "session": session_id}

    def _headers(self, operation: str) -> dict[str, str]:
        return runtime_headers(operation, self.configuration)


JANE = {"name": "Jane", "email": "jane@example.com", "pictureUrl": "https://cdn.example.com/jane.png"}


async def check(response: Any, *, allow_header_error: bool = False) -> None:
    """No 5xx (but the SDK's header error), no traceback, and every other JSON error has ``code`` = its status."""
    text = await response.text()
    assert "Traceback" not in text, text[:500]
    body = _json_or_none(text)
    header_error = allow_header_error and response.status == 500 and isinstance(body, dict) and set(body) == {"error"}
    assert response.status < 500 or header_error, (response.status, text[:500])
    if body is not None and response.status >= 400 and not header_error:
        assert isinstance(body, dict) and body.get("code") == response.status, (response.status, body)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


async def still_alive(client: TestClient[Any, Any]) -> None:
    response = await client.get("/health")
    assert response.status == 200 and await response.text() == "ok"


def run_in(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, None]], None]:
    return loop.run_until_complete


@pytest.fixture
def fuzz_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of the test's own: hypothesis drives sync functions, each example runs one coroutine."""
    new_loop = asyncio.new_event_loop()
    yield new_loop
    new_loop.close()


async def _start(tmp_path: Path, mode: str) -> Harness:
    upstream = Upstream()
    options = {"inbox": {"admin_token": ADMIN_TOKEN}} if mode == "inbox" else {}
    app_settings = conftest.test_settings(
        tmp_path, adapter=mode, console=mode == "inbox", adapter_options=options, retry_attempts=1
    )
    app = create_app(
        app_settings, botpress_transport=upstream.botpress_transport(), vendor_transport=upstream.vendor_transport()
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    harness = Harness(client, upstream, INBOX_CONFIG if mode == "inbox" else ZENDESK_CONFIG)
    await harness.setup()
    return harness


@pytest.fixture(params=["inbox", "zendesk"])
def harness(request: pytest.FixtureRequest, fuzz_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Harness]:
    started = fuzz_loop.run_until_complete(_start(tmp_path, request.param))
    yield started
    fuzz_loop.run_until_complete(started.client.close())


def _action_templates(ids: dict[str, str]) -> dict[str, Any]:
    history = [{"source": {"type": "user", "userId": ids["user"]}, "type": "text", "payload": {"text": "hi"}}]
    return {
        "createUser": JANE,
        "startHitl": {
            "userId": ids["user"],
            "title": "Refund",
            "description": "Order 42",
            "hitlSession": {"priority": "high", "tags": ["a"]},
            "messageHistory": history,
        },
        "stopHitl": {"conversationId": ids["conversation"], "reason": "cancel"},
    }


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operations(harness: Harness, fuzz_loop: asyncio.AbstractEventLoop, operation: str) -> None:
    template = {"webhookUrl": "https://hooks.example.com/wh", "tags": {"id": "x"}, "channel": "hitl"}

    @seed(8)
    @FUZZ
    @given(body=body_of(template), header=st.none() | st.tuples(st.sampled_from(HEADERS), st.sampled_from(BAD_HEADERS)))
    def example(body: str, header: tuple[str, str] | None) -> None:
        extra = dict([header]) if header else {}
        run_in(fuzz_loop)(_operation_then_health(harness, operation, body, extra))

    example()


@pytest.mark.parametrize("action", ["createUser", "startHitl", "stopHitl", "noSuchAction"])
def test_actions(harness: Harness, fuzz_loop: asyncio.AbstractEventLoop, action: str) -> None:
    template = _action_templates(harness.ids).get(action, {})

    @seed(8)
    @FUZZ
    @given(action_input=shaped(template), name=st.just(action) | HOSTILE_TEXT)
    def example(action_input: Any, name: str) -> None:
        body = json.dumps({"type": name, "input": action_input})
        run_in(fuzz_loop)(_operation_then_health(harness, "action_triggered", body))

    example()


@pytest.mark.parametrize("kind", ["text", "image", "file", "bloc", "nope"])
def test_hitl_channel_message_created(harness: Harness, fuzz_loop: asyncio.AbstractEventLoop, kind: str) -> None:
    ids = harness.ids
    payloads: dict[str, dict[str, Any]] = {
        "text": {"text": "hi"},
        "image": {"imageUrl": "http://127.0.0.1:9/cat.png"},
        "file": {},
    }
    payloads["bloc"] = {"items": [{"type": "text", "payload": {"text": "a"}}]}
    valid = json.loads(
        message_created_body(
            bp_conversation_id=ids["conversation"],
            external_session_id=ids["session"],
            bp_message_id="msg_01JFUZZ0000000000000000000",
            message_type=kind,
            payload=payloads.get(kind, {"x": 1}),
        )
    )

    @seed(8)
    @FUZZ
    @given(body=shaped(valid).map(json.dumps).map(Body))
    def example(body: str) -> None:
        run_in(fuzz_loop)(_operation_then_health(harness, "message_created", body))

    example()


def test_webhook_received(harness: Harness, fuzz_loop: asyncio.AbstractEventLoop) -> None:
    template = {"v": 1, "event": "comment", "ticketId": harness.ids["session"], "marker": "m", "currentUserId": "1"}

    @seed(8)
    @FUZZ
    @given(inner=body_of(template), method=st.sampled_from(["POST", "GET"]) | HOSTILE_TEXT)
    def example(inner: str, method: str) -> None:
        req = {"method": method, "path": "/", "query": "", "headers": _signed(harness, inner), "body": inner}
        run_in(fuzz_loop)(_operation_then_health(harness, "webhook_received", json.dumps({"req": req})))

    example()


def _signed(harness: Harness, body: str) -> dict[str, str]:
    """Zendesk's signature headers with the registered webhook's secret, so the parser is reached."""
    secrets = [hook["secret"] for hook in harness.upstream.zendesk.webhooks.values()]
    if not secrets:
        return {}
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = sign(secrets[0], stamp, body.encode("utf-8", "surrogatepass"))
    return {"x-zendesk-webhook-signature": signature, "x-zendesk-webhook-signature-timestamp": stamp}


async def _operation_then_health(
    harness: Harness, operation: str, body: str, headers: dict[str, str] | None = None
) -> None:
    await harness.operation(operation, body.encode("utf-8", "surrogatepass"), **(headers or {}))
    await still_alive(harness.client)


CONSOLE_BODY = {
    "email": "admin@example.com",
    "password": PASSWORD,
    "status": "busy",
    "text": "hello",
    "agent": "admin@example.com",
    "values": ["urgent"],
    "name": "mine",
    "filters": {"state": "NEEDS_ACTION", "search": "x"},
    "role": "agent",
    "groups": ["g"],
}
QUERY_KEYS = ["limit", "state", "search", "tag", "label", "assigned", "format", "contactName"]


def app_routes(app: web.Application) -> list[tuple[str, str, list[str]]]:
    """Every (method, path template, path parameters) the app's router serves, static files included."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path") or info.get("prefix", "") + "/{filename}"
        found.append((route.method, template, ROUTE_PARAM.findall(template)))
    return found


async def _console_ids(harness: Harness) -> dict[str, str]:
    service = harness.client.app[ADAPTER_BACKENDS]["inbox"]
    assert isinstance(service, InboxService)
    admin = await service.agents.create("admin@example.com", PASSWORD, role="admin", status="available")
    harness.ids["admin"] = admin.id
    token = await service.agents.issue_token(admin.id)
    headers = {"Authorization": f"Bearer {token}"}
    detail = await (await harness.client.get(f"/console/api/sessions/{harness.ids['session']}", headers=headers)).json()
    view = await harness.client.post("/console/api/views", json={"name": "v", "filters": {}}, headers=headers)
    return {
        "session_id": harness.ids["session"],
        "contact_id": detail["contact"]["id"],
        "agent_id": admin.id,
        "view_id": (await view.json())["id"],
        "message_id": "msg_0",  # no such message: the retry answers 404
        "filename": "app.js",
        "tail": "",
        "file_key": "0" * 64,  # the Slack adapter's re-served agent files (a key of no file: 404)
    }


def test_every_route_of_the_app_is_fuzzed(harness: Harness, fuzz_loop: asyncio.AbstractEventLoop) -> None:
    console = "inbox" in harness.client.app[ADAPTER_BACKENDS]
    known = fuzz_loop.run_until_complete(_console_ids(harness)) if console else {"tail": "", "file_key": "0" * 64}
    routes = app_routes(harness.client.app)
    unknown = {(m, t, p) for m, t, ps in routes for p in ps if p not in known}
    assert not unknown, f"routes with path parameters the fuzz test cannot fill in: {unknown}"
    assert (
        console
        == any(t.startswith("/console/api") for _, t, _ in routes)
        == any(t.startswith("/admin") for _, t, _ in routes)
    )
    for method, template, _ in routes:
        _fuzz_route(harness, fuzz_loop, method, template, known)


def _fuzz_route(harness: Harness, loop: asyncio.AbstractEventLoop, method: str, template: str, known: Any) -> None:
    params = {name: st.just(value) | HOSTILE_TEXT for name, value in known.items()}

    @seed(8)
    @settings(FUZZ, max_examples=6)
    @given(
        path=st.fixed_dictionaries(params),
        query=st.dictionaries(st.sampled_from(QUERY_KEYS), HOSTILE_TEXT, max_size=3),
        body=body_of(CONSOLE_BODY),
        auth=st.sampled_from(["agent", "admin", "none", "Bearer \u00e9\u00e9"]),
    )
    def example(path: dict[str, str], query: dict[str, str], body: str, auth: str) -> None:
        url = ROUTE_PARAM.sub(lambda m: url_part(path[m.group(1)]), template)
        if query:
            url += "?" + "&".join(f"{key}={url_part(value)}" for key, value in query.items())
        operation = template == "/{tail}"  # the catch-all: a Botpress operation, which may answer the header error
        loop.run_until_complete(_console_call(harness, method, URL(url, encoded=True), body, auth, operation))

    example()


async def _console_call(harness: Harness, method: str, url: URL, body: str, auth: str, operation: bool) -> None:
    service = harness.client.app[ADAPTER_BACKENDS].get("inbox")
    headers = {"X-Inbox-Client": "fuzz", "Content-Type": "application/json"}
    if auth == "agent" and isinstance(service, InboxService):
        token = await service.agents.issue_token(harness.ids["admin"])  # fresh: a fuzzed logout revokes the last
        headers["Authorization"] = f"Bearer {token}"
    elif auth == "admin":
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    elif auth != "none":
        headers["Authorization"] = auth
    data = body.encode("utf-8", "surrogatepass") if method in ("POST", "PUT", "PATCH", "DELETE") else None
    response = await harness.client.request(method, url, data=data, headers=headers)
    await check(response, allow_header_error=operation)
    await still_alive(harness.client)
