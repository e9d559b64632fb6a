"""The fake Botpress over real HTTP, for the multi-process tests: its Runtime API, and its webhook relay.

Run it with ``python -m tests.e2e.botpress_server --port N [--delay-ms D]`` (from the repository root). It serves:

* ``/v1/chat/...``: the Runtime API of :class:`~tests.fake_botpress.FakeBotpress`. Each request is checked with
  :func:`~tests.contracts.botpress.validate_botpress_request` (a violation is recorded and answered 400), then
  answered by the fake's route table (:class:`~tests.e2e.route_table.RouteTable`: the routes the fake registers,
  without respx's cost) over :class:`~tests.e2e.indexed_botpress.IndexedBotpress` (tag lookups from indexes).
  ``--delay-ms`` is added to every answer: the upstream latency of the benchmark.
* ``/webhook/<id>``: what ``webhook.botpress.cloud`` does: the request becomes a ``webhook_received`` operation sent
  to the integration's URL, and the integration's ``{status, headers, body}`` goes back to the caller (a 502 when
  the integration gave no answer, so the helpdesk retries).
* ``/_test/...``: ``POST /_test/integration {url, headers}`` sets where and with which runtime headers operations
  go; ``POST /_test/seed_message {message}`` holds a bot-written message as the runtime does before its
  ``message_created``; ``POST /_test/hold`` parks relayed webhooks until ``POST /_test/release`` sends them all at
  once (a race made certain); ``POST /_test/hold_api {method, path}`` parks Runtime API requests matching them
  (a path regex) the same way, then applies them once released even if the caller is gone (a write committed
  whose answer was lost), or, released with ``{"drop": true}``, answers them 503 unapplied (a write that never
  reached Botpress: its sender was killed first); ``GET /_test/held`` counts what is parked; ``GET /_test/state``
  and ``GET /_test/violations``;
  ``GET /_test/calls`` counts the Runtime API requests served, by call name (``"GET /v1/chat/users/{id}"``,
  :func:`~tests.integration.call_log.call_name`).

Only loopback clients are served.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp import web

from tests.contracts.botpress import BP_TEST_API_URL, validate_botpress_request, validate_botpress_response
from tests.integration.call_log import call_name

from .fake_http import as_httpx, loopback_only
from .indexed_botpress import IndexedBotpress
from .route_table import NoRoute, RouteTable

log = logging.getLogger("fake-botpress")
RELAY_TIMEOUT_SECONDS = 30.0


class BotpressServer:
    """The fake Botpress, its contract checks and its webhook relay."""

    def __init__(self, delay_seconds: float = 0.0, *, checked: bool = True) -> None:
        self.botpress = IndexedBotpress()
        self.checked = checked
        """Check every request and answer against the contract; off only for benchmarks (their CPU is not ours)."""
        self.routes = RouteTable.of(self.botpress.install)
        self.delay_seconds = delay_seconds
        self.violations: list[str] = []
        self.calls: Counter[str] = Counter()
        """Runtime API requests served, by call name."""
        self.integration_url: str | None = None
        self.runtime_headers: dict[str, str] = {}
        self.holding = False
        self.held: list[asyncio.Future[bool]] = []
        self.held_api: list[tuple[str, re.Pattern[str]]] = []
        self._http: httpx.AsyncClient | None = None

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[loopback_only], client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/v1/chat/{tail:.*}", self.api)
        app.router.add_route("*", "/webhook/{webhook_id}", self.relay)
        app.router.add_post("/_test/integration", self.set_integration)
        app.router.add_post("/_test/seed_message", self.seed_message)
        app.router.add_post("/_test/hold", self.hold)
        app.router.add_post("/_test/hold_api", self.hold_api)
        app.router.add_post("/_test/release", self.release)
        app.router.add_get("/_test/held", self.count_held)
        app.router.add_get("/_test/state", self.state)
        app.router.add_get("/_test/violations", self.list_violations)
        app.router.add_get("/_test/calls", self.list_calls)
        app.cleanup_ctx.append(self._client)
        return app

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=RELAY_TIMEOUT_SECONDS, trust_env=False) as http:
            self._http = http
            yield

    def _violation(self, text: str) -> None:
        log.error("contract violation: %s", text)
        if text not in self.violations:
            self.violations.append(text)

    async def api(self, request: web.Request) -> web.Response:
        """Check one Runtime API request against the contract, then let the fake answer it (after the delay)."""
        outgoing = await as_httpx(request, BP_TEST_API_URL + request.raw_path)
        self.calls[call_name(outgoing)] += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        held = any(method == request.method and path.search(request.path) for method, path in self.held_api)
        # Applied once released, whether or not the caller is still there to hear it (unless dropped).
        if held and not await self._park():
            return _bp_error(503, "Unavailable", "dropped by the test: as if it never reached Botpress")
        try:
            if self.checked:
                validate_botpress_request(outgoing)
        except AssertionError as exc:
            self._violation(str(exc))
            return _bp_error(400, "InvalidPayload", "the request breaks the Runtime API contract")
        try:
            answer = self.routes.handle(outgoing)
        except NoRoute:
            self._violation(f"{request.method} {request.path}: not an endpoint of the fake Botpress")
            return _bp_error(404, "ResourceNotFound", "Not found")
        try:
            if self.checked:
                validate_botpress_response(outgoing, answer)
        except AssertionError as exc:
            self._violation(f"the fake's own answer: {exc}")
        return web.Response(status=answer.status_code, body=answer.content, content_type="application/json")

    async def relay(self, request: web.Request) -> web.Response:
        """``webhook.botpress.cloud``: the helpdesk's request, as a ``webhook_received`` to the integration."""
        assert self._http is not None
        if self.integration_url is None:
            return web.json_response({"error": "no integration URL set"}, status=503)
        if self.holding and not await self._park():
            return web.json_response({"error": "dropped by the test"}, status=502)
        body = await request.text()
        req: dict[str, Any] = {"method": request.method, "path": request.path, "query": request.query_string}
        req |= {"headers": {k.lower(): v for k, v in request.headers.items()}, "body": body}
        headers = {**self.runtime_headers, "x-bp-operation": "webhook_received", "content-type": "application/json"}
        try:
            answer = await self._http.post(self.integration_url, headers=headers, content=json.dumps({"req": req}))
        except httpx.HTTPError as exc:
            log.warning("relay: the integration gave no answer (%s)", type(exc).__name__)
            return web.json_response({"error": "the integration gave no answer"}, status=502)
        return _relayed(answer)

    async def _park(self) -> bool:
        """Wait for the release; whether to go on (``False``: the request is dropped, unapplied)."""
        parked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.held.append(parked)
        return await asyncio.shield(parked)  # a caller that disconnects does not cancel what it asked for

    async def set_integration(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.integration_url, self.runtime_headers = body["url"], dict(body.get("headers", {}))
        return web.json_response({})

    async def seed_message(self, request: web.Request) -> web.Response:
        self.botpress.seed_bot_message(await request.json())
        return web.json_response({})

    async def hold(self, request: web.Request) -> web.Response:
        self.holding = True
        return web.json_response({})

    async def hold_api(self, request: web.Request) -> web.Response:
        """Park Runtime API requests matching ``{method, path}`` (a regex) until released."""
        body = await request.json()
        self.held_api.append((body["method"], re.compile(body["path"])))
        return web.json_response({})

    async def release(self, request: web.Request) -> web.Response:
        """Let the parked requests go on; with ``{"drop": true}``, answer them unapplied instead."""
        drop = bool((await request.json()).get("drop")) if request.can_read_body else False
        self.holding, self.held_api, parked, self.held = False, [], self.held, []
        for future in parked:
            future.set_result(not drop)
        return web.json_response({"released": len(parked)})

    async def count_held(self, request: web.Request) -> web.Response:
        return web.json_response({"held": len(self.held)})

    async def state(self, request: web.Request) -> web.Response:
        """What the fake Botpress holds."""
        fake = self.botpress
        states = [{"type": t, "id": i, "name": n, "payload": s["payload"]} for (t, i, n), s in fake.states.items()]
        return web.json_response(
            {
                "users": fake.users,
                "conversations": fake.conversations,
                "messages": list(fake.messages.values()),
                "events": fake.events,
                "states": states,
            }
        )

    async def list_violations(self, request: web.Request) -> web.Response:
        return web.json_response({"violations": self.violations})

    async def list_calls(self, request: web.Request) -> web.Response:
        """The Runtime API requests served so far, by call name."""
        return web.json_response({"calls": dict(self.calls)})


def _relayed(answer: httpx.Response) -> web.Response:
    """The integration's ``{status, headers, body}`` as the answer to the helpdesk (502 if it failed)."""
    if answer.status_code != 200:
        return web.json_response({"error": f"the integration answered {answer.status_code}"}, status=502)
    reply: dict[str, Any] = answer.json() if answer.content else {}
    status = int(reply.get("status", 200))
    return web.Response(status=status, body=reply.get("body") or None, headers=reply.get("headers") or {})


def _bp_error(status: int, kind: str, message: str) -> web.Response:
    body = {"id": "err_fake", "code": status, "type": kind, "message": message}
    return web.json_response(body, status=status)


def warm_up() -> None:
    """Load the Runtime OpenAPI before serving (it takes a second or two) by checking one request."""
    with contextlib.suppress(AssertionError):
        validate_botpress_request(httpx.Request("GET", f"{BP_TEST_API_URL}/v1/chat/users/user_1"))


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.e2e.botpress_server --port N [--delay-ms D]``."""
    parser = argparse.ArgumentParser(description="A fake Botpress Runtime API and webhook relay (tests only).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added to every Runtime API answer")
    parser.add_argument("--unchecked", action="store_true", help="skip the contract checks (benchmarks only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    warm_up()
    app = BotpressServer(args.delay_ms / 1000, checked=not args.unchecked).app()
    print(f"fake Botpress on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
