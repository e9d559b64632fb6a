"""The fake Slack workspace over real HTTP, as its own process, for the cross-process end-to-end tests.

Run it with ``python -m tests.e2e.slack_server --port N --bot-token xoxb-... --signing-secret S`` (from the
repository root). It serves :func:`integration.sandbox.fake_slack.fake_slack_app` (the Web API under ``/api/``,
uploads, private files, the ``/_test/`` hooks of :mod:`integration.sandbox.fake_slack.hooks`) with one check added
to the fake's own essentials: every Web API call and upload is validated against the Slack contracts
(:mod:`tests.contracts.slack`: the JSON Schemas of ``tests/contracts/slack/<method>.json``), and so is every
successful answer of the fake. A violation is recorded (``GET /_test/violations``; the tests fail on any).

Only loopback addresses are served and delivered to.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
from aiohttp import web

from integration.sandbox.fake_slack import DEFAULT_CHANNEL_ID, DeliverySettings, FakeSlack, fake_slack_app
from tests.contracts.slack import SLACK_TEST_URL, UPLOAD_HOST, validate_slack_request, validate_slack_response

from .fake_http import Handler, as_httpx, loopback_only

MEDIA_TYPES = {".png": "image/png", ".pdf": "application/pdf"}


class ContractChecks:
    """Every request to the fake checked by :func:`~tests.contracts.slack.validate_slack_request` (on the URL it
    would have at Slack: ``https://slack.com/api/<method>``, ``https://files.slack.com/upload/<id>``), every
    successful Web API answer by :func:`~tests.contracts.slack.validate_slack_response`; a violation is recorded
    as the fake's own."""

    def __init__(self) -> None:
        self.fake: FakeSlack | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the request and, for the Web API, the fake's answer."""
        slack_url = _slack_url(request.path)
        if slack_url is None:
            return await handler(request)
        query = f"?{request.query_string}" if request.query_string else ""
        outgoing = await as_httpx(request, slack_url + query)
        self._check(lambda: validate_slack_request(outgoing))
        response = await handler(request)
        if isinstance(response, web.Response) and response.body is not None and "/api/" in slack_url:
            body = response.body if isinstance(response.body, bytes) else b""
            # The fake's own URLs (upload URL, url_private) are on loopback; Slack's are https on its file host.
            body = body.replace(f"http://{request.host}".encode(), UPLOAD_HOST.encode())
            answer = httpx.Response(response.status, content=body, headers={"content-type": "application/json"})
            self._check(lambda: validate_slack_response(outgoing, answer))
        return response

    def _check(self, check: Callable[[], None]) -> None:
        try:
            check()
        except AssertionError as exc:
            assert self.fake is not None
            self.fake.violation(str(exc))


def _slack_url(path: str) -> str | None:
    if path.startswith("/api/"):
        return f"{SLACK_TEST_URL}/{path.removeprefix('/api/')}"
    if path.startswith("/upload/"):
        return f"{UPLOAD_HOST}{path}"
    return None


def app(
    bot_token: str, deliveries: DeliverySettings, media_dir: Path | None = None, channel_id: str = DEFAULT_CHANNEL_ID
) -> web.Application:
    """The fake's application behind the loopback filter, with the JSON Schema checks, and ``/media/<name>``: the
    files of ``media_dir`` (what the end user "sends" by URL)."""
    checks = ContractChecks()
    served, checks.fake = fake_slack_app(
        bot_token, deliveries, channel_id=channel_id, middlewares=(loopback_only, checks.middleware)
    )
    if media_dir is not None:
        served.router.add_get("/media/{name}", _media(media_dir.resolve()))
    return served


def _media(folder: Path) -> Handler:
    async def media(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = folder / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=path.read_bytes(), content_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream")
        )

    return media


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.e2e.slack_server --port N --bot-token T --signing-secret S [--request-url U] ...``."""
    parser = argparse.ArgumentParser(description="A fake Slack workspace over HTTP (tests only).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bot-token", required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--channel-id", default=DEFAULT_CHANNEL_ID)
    parser.add_argument("--media-dir", type=Path, default=None, help="files served under /media/")
    parser.add_argument("--request-url", default=None, help="where deliveries go (or POST /_test/config later)")
    parser.add_argument("--retry-delays", default="0.2,0.5,1.0", help="seconds before each of the 3 retries")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    delays = tuple(float(delay) for delay in args.retry_delays.split(",") if delay)
    deliveries = DeliverySettings(args.request_url, args.signing_secret, delays)
    print(f"fake Slack on http://127.0.0.1:{args.port}", flush=True)
    served = app(args.bot_token, deliveries, args.media_dir, args.channel_id)
    web.run_app(served, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
