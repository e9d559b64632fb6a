"""The fake Slack workspace over real HTTP, as its own process, for the cross-process end-to-end tests.

Run it with ``python -m tests.e2e.slack_server --port N --bot-token xoxb-... --signing-secret S`` (from the
repository root). It serves :func:`integration.sandbox.fake_slack.fake_slack_app` (the Web API under ``/api/``,
uploads, private files, the ``/_test/`` hooks of :mod:`integration.sandbox.fake_slack.hooks`) with one check added
to the fake's own essentials: every Web API call whose method has a JSON Schema in ``tests/contracts/slack/``
(``<method>.json``, e.g. ``chat.postMessage.json``) must validate against it. A violation is recorded
(``GET /_test/violations``; the tests fail on any) and answered ``invalid_arguments``.

Only loopback addresses are served and delivered to.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import web

from integration.sandbox.fake_slack import DEFAULT_CHANNEL_ID, DeliverySettings, fake_slack_app

SCHEMAS = Path(__file__).resolve().parents[1] / "contracts" / "slack"
MEDIA_TYPES = {".png": "image/png", ".pdf": "application/pdf"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@cache
def schema_for(method: str) -> dict[str, Any] | None:
    """The JSON Schema of one method's arguments, if the contracts have one."""
    path = SCHEMAS / f"{method}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def schema_check(call: dict[str, Any]) -> list[str]:
    """The call's arguments against its method's JSON Schema (none: nothing to say)."""
    schema = schema_for(str(call["method"]))
    if schema is None:
        return []
    errors = jsonschema.Draft202012Validator(schema).iter_errors(call["args"])
    return [f"{call['method']}: {'/'.join(map(str, error.path)) or '(args)'}: {error.message}" for error in errors]


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse anyone but this machine."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer or peer[0] not in LOOPBACK:
        raise web.HTTPForbidden()
    return await handler(request)


def app(
    bot_token: str, deliveries: DeliverySettings, media_dir: Path | None = None, channel_id: str = DEFAULT_CHANNEL_ID
) -> web.Application:
    """The fake's application behind the loopback filter, with the JSON Schema checks, and ``/media/<name>``: the
    files of ``media_dir`` (what the end user "sends" by URL)."""
    served, _ = fake_slack_app(
        bot_token, deliveries, channel_id=channel_id, checkers=(schema_check,), middlewares=(loopback_only,)
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
