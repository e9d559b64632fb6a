"""The fake Zendesk account over real HTTP, for the cross-process end-to-end tests.

Run it with ``python -m tests.e2e.zendesk_server --port N --media-dir DIR`` (from the repository root). It serves:

* ``/api/v2/...``: the Support and Webhooks APIs of :class:`~tests.external_adapters.zendesk.fake_zendesk.FakeZendesk`.
  Each aiohttp request becomes an :class:`httpx.Request`, is checked with
  :func:`~tests.contracts.zendesk.validate_zendesk_request` (a violation is recorded and answered 400), then handed
  to the fake's own route table (:class:`~tests.e2e.route_table.RouteTable`: the routes the fake registers, without
  respx's cost; nothing is patched) over :class:`~tests.e2e.indexed_zendesk.IndexedZendesk` (tickets found by
  external id and tag from indexes). The fake's answer is checked against the spec too. ``--delay-ms`` is added
  to every answer (the upstream latency of a benchmark); every request is counted by its call name
  (:func:`~tests.integration.call_log.call_name`).
* ``/media/<name>``: the files of ``--media-dir`` (what the end user "sends" as images or files).
* ``/_test/...``: control endpoints for the test. ``POST /_test/agent_comment`` ``{ticket_id, html, public?}``,
  ``/_test/assign`` ``{ticket_id}`` and ``/_test/solve`` ``{ticket_id, comment_html?}`` make the agent act and then
  POST the signed deliveries the triggers produce to the webhook endpoint given at register;
  ``/_test/redeliver`` ``{delivery}`` POSTs one earlier delivery again, byte for byte (a Zendesk retry).
  ``"deliver": false`` in an acting request records the deliveries and answers them (url, headers, body) unsent:
  a benchmark sends them itself, so that only the delivery is timed.
  ``GET /_test/calls`` counts the API requests served, by call name (``"GET /api/v2/tickets/{id}/comments"``).
  ``GET /_test/state`` shows tickets with their comments and audits (each audit's ``metadata.custom`` holds the
  Botpress message ids a comment delivered), users, webhooks and triggers; ``GET /_test/violations`` lists every
  contract violation seen (the test fails on any).

Only loopback addresses are served and delivered to.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web
from aiohttp.log import access_logger

from external_adapters import WebhookRequest
from tests.contracts.zendesk import validate_zendesk_request, validate_zendesk_response
from tests.integration.call_log import call_name

from .fake_http import LOOPBACK, Handler, as_httpx, loopback_only
from .indexed_zendesk import IndexedZendesk
from .route_table import NoRoute, RouteTable

log = logging.getLogger("fake-zendesk")

DELIVERY_TIMEOUT_SECONDS = 30.0
_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".pdf": "application/pdf", ".mp3": "audio/mpeg"}


@dataclass
class Delivery:
    """One webhook delivery the triggers produced, and every answer the endpoint gave to it."""

    id: int
    url: str
    headers: dict[str, str]
    body: str
    answers: list[dict[str, Any]] = field(default_factory=list)


class ZendeskServer:
    """The fake account, its contract checks and the deliveries it made."""

    def __init__(self, media_dir: Path, *, checked: bool = True, delay_seconds: float = 0.0) -> None:
        self.zendesk = IndexedZendesk()
        self.checked = checked
        """Check every request and answer against the contract; off only for benchmarks (their CPU is not ours)."""
        self.delay_seconds = delay_seconds
        self.calls: Counter[str] = Counter()
        """API requests served, by call name."""
        self.routes = RouteTable.of(self.zendesk.install)
        self.media_dir = media_dir.resolve()
        self.violations: list[str] = []
        self.deliveries: list[Delivery] = []
        self._http: httpx.AsyncClient | None = None

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=[loopback_only])
        app.router.add_route("*", "/api/v2/{tail:.*}", self.api)
        app.router.add_get("/media/{name}", self.media)
        app.router.add_post("/_test/agent_comment", self._acting(self._agent_comment))
        app.router.add_post("/_test/assign", self._acting(self._assign))
        app.router.add_post("/_test/solve", self._acting(self._solve))
        app.router.add_post("/_test/redeliver", self.redeliver)
        app.router.add_get("/_test/state", self.state)
        app.router.add_get("/_test/violations", self.list_violations)
        app.router.add_get("/_test/calls", self.list_calls)
        app.cleanup_ctx.append(self._client)
        return app

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS, trust_env=False) as http:
            self._http = http
            yield

    def _violation(self, text: str) -> None:
        log.error("contract violation: %s", text)
        if text not in self.violations:
            self.violations.append(text)

    # --- the Zendesk API ---------------------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        """Check one adapter request against the contract, then let the fake answer it."""
        outgoing = await as_httpx(request, f"http://{request.host}{request.raw_path}")
        self.calls[call_name(outgoing)] += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        try:
            if self.checked:
                validate_zendesk_request(outgoing)
        except AssertionError as exc:
            self._violation(str(exc))
            return _error(400, "InvalidRequest", "the request breaks the Zendesk API contract")
        try:
            answer = self.routes.handle(outgoing)
        except NoRoute:
            self._violation(f"{request.method} {request.path}: not an endpoint of the fake Zendesk")
            return _error(404, "InvalidEndpoint", "Not found")
        try:
            if self.checked:
                validate_zendesk_response(outgoing, answer)
        except AssertionError as exc:
            self._violation(f"the fake's own answer: {exc}")
        content_type = answer.headers.get("content-type")
        headers = {"content-type": content_type} if content_type else {}
        return web.Response(status=answer.status_code, body=answer.content or None, headers=headers)

    async def media(self, request: web.Request) -> web.StreamResponse:
        """A file of the media directory (no sub-directories)."""
        name = request.match_info["name"]
        path = self.media_dir / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        content_type = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
        return web.Response(body=path.read_bytes(), content_type=content_type)

    # --- the agent acting, and the deliveries -----------------------------------------------------------------

    def _acting(self, act: Callable[[dict[str, Any]], list[WebhookRequest]]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            body = await request.json()
            try:
                fired = act(body)
            except KeyError as exc:
                return _error(404, "RecordNotFound", f"no such ticket or field: {exc}")
            recorded = [self._record(webhook_request) for webhook_request in fired]
            if body.get("deliver", True) is False:
                return web.json_response({"deliveries": [_unsent(delivery) for delivery in recorded]})
            sent = [await self._send(delivery) for delivery in recorded]
            return web.json_response({"deliveries": [_summary(delivery) for delivery in sent]})

        return handler

    def _agent_comment(self, body: dict[str, Any]) -> list[WebhookRequest]:
        return self.zendesk.agent_comment(int(body["ticket_id"]), body["html"], public=body.get("public", True))

    def _assign(self, body: dict[str, Any]) -> list[WebhookRequest]:
        return self.zendesk.assign(int(body["ticket_id"]))

    def _solve(self, body: dict[str, Any]) -> list[WebhookRequest]:
        return self.zendesk.set_status(int(body["ticket_id"]), "solved", comment_html=body.get("comment_html"))

    def _record(self, webhook_request: WebhookRequest) -> Delivery:
        webhook = self.zendesk.webhooks[webhook_request.headers["x-zendesk-webhook-id"]]
        headers, body = dict(webhook_request.headers), webhook_request.body or ""
        delivery = Delivery(len(self.deliveries) + 1, webhook["endpoint"], headers, body)
        self.deliveries.append(delivery)
        return delivery

    async def _send(self, delivery: Delivery) -> Delivery:
        assert self._http is not None
        if urlsplit(delivery.url).hostname not in LOOPBACK:
            self._violation(f"delivery {delivery.id}: refusing to call {delivery.url} (not a loopback address)")
            delivery.answers.append({"status": None, "body": "not sent"})
            return delivery
        try:
            response = await self._http.post(delivery.url, headers=delivery.headers, content=delivery.body.encode())
        except httpx.HTTPError as exc:
            delivery.answers.append({"status": None, "body": f"{type(exc).__name__}: {exc}"})
            return delivery
        delivery.answers.append({"status": response.status_code, "body": response.text[:2000]})
        return delivery

    async def redeliver(self, request: web.Request) -> web.Response:
        """POST an earlier delivery again, unchanged (same signature, timestamp and invocation id)."""
        body = await request.json()
        index = int(body["delivery"]) - 1
        if not 0 <= index < len(self.deliveries):
            return _error(404, "RecordNotFound", f"no delivery {body['delivery']}")
        delivery = await self._send(self.deliveries[index])
        return web.json_response({"deliveries": [_summary(delivery)]})

    # --- inspection --------------------------------------------------------------------------------------------

    async def state(self, request: web.Request) -> web.Response:
        """The account as the test may inspect it (no signing secrets)."""
        fake = self.zendesk
        tickets = {str(t.id): {**t.view(), "comments": t.comments, "audits": t.audits} for t in fake.tickets.values()}
        webhooks = [{k: v for k, v in w.items() if k != "secret"} for w in fake.webhooks.values()]
        return web.json_response(
            {
                "tickets": tickets,
                "users": {str(user_id): user for user_id, user in fake.users.items()},
                "agent": fake.agent,
                "webhooks": webhooks,
                "triggers": list(fake.triggers.values()),
                "deliveries": [asdict(delivery) for delivery in self.deliveries],
            }
        )

    async def list_violations(self, request: web.Request) -> web.Response:
        """Every contract violation seen so far."""
        return web.json_response({"violations": self.violations})

    async def list_calls(self, request: web.Request) -> web.Response:
        """The API requests served so far, by call name."""
        return web.json_response({"calls": dict(self.calls)})


def _summary(delivery: Delivery) -> dict[str, Any]:
    return {"id": delivery.id, "answer": delivery.answers[-1], "body": json.loads(delivery.body or "null")}


def _unsent(delivery: Delivery) -> dict[str, Any]:
    """A recorded delivery its caller sends itself: where to, with which headers and body."""
    return {"id": delivery.id, "url": delivery.url, "headers": delivery.headers, "body": delivery.body}


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "description": description}, status=status)


def warm_up() -> None:
    """Load the Support OpenAPI once before serving (it takes a second or two), by checking one valid request."""
    validate_zendesk_request(
        httpx.Request("GET", "http://127.0.0.1/api/v2/users/1.json", headers={"authorization": "Bearer warm-up"})
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.e2e.zendesk_server --port N --media-dir DIR [--unchecked] [--delay-ms D] [--quiet]``."""
    parser = argparse.ArgumentParser(description="A fake Zendesk account over HTTP (tests only).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--media-dir", type=Path, required=True)
    parser.add_argument("--unchecked", action="store_true", help="skip the contract checks (benchmarks only)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added to every API answer")
    parser.add_argument("--quiet", action="store_true", help="no access log (benchmarks: its CPU is not ours)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    warm_up()
    app = ZendeskServer(args.media_dir, checked=not args.unchecked, delay_seconds=args.delay_ms / 1000).app()
    print(f"fake Zendesk on http://127.0.0.1:{args.port}", flush=True)
    access_log = None if args.quiet else access_logger
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=access_log)


if __name__ == "__main__":
    main()
