"""The fake Slack's HTTP side: the Web API under ``/api/<method>``, uploads, private files, and the test hooks.

Slack's conventions: every Web API answer is HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error"}``
(``invalid_auth`` for a wrong token, ``not_authed`` for none), except a rate limit: HTTP 429 with
``Retry-After`` (seconds). Arguments come from the query string, a form or a JSON body, as Slack reads them.
Every message the bot posts is delivered back to the app as a ``message`` event with its ``bot_id`` (Slack does
the same), so the app's echo filter is exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from .checks import Call, Checker, essentials
from .delivery import Deliverer, DeliverySettings
from .files import file_content, receive_upload, share_ts
from .methods import METHODS
from .payloads import event_callback
from .workspace import SlackError, Workspace

log = logging.getLogger("fake-slack")
_JSON_FIELDS = ("blocks", "metadata", "attachments", "files")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeSlack:
    """One fake workspace served over HTTP, its faults to inject, its calls and contract violations."""

    def __init__(
        self,
        workspace: Workspace,
        deliveries: DeliverySettings,
        *,
        checkers: tuple[Checker, ...] = (),
        echo_bot_messages: bool = True,
    ) -> None:
        self.workspace = workspace
        self.deliverer = Deliverer(deliveries)
        self.checkers = (essentials, *checkers)
        self.echo_bot_messages = echo_bot_messages
        self.calls: Counter[str] = Counter()
        self.violations: list[str] = []
        self.rate_limits: dict[str, list[int]] = {}
        """Method -> Retry-After seconds of the next calls to answer 429."""
        self.drops: Counter[str] = Counter()
        """Method -> how many of its next calls are done, then their connection closed unanswered."""
        self.background: set[asyncio.Task[Any]] = set()

    def routes(self) -> list[web.RouteDef]:
        """The Web API, upload and file routes (the test hooks are in :mod:`.hooks`)."""
        return [
            web.route("*", "/api/{method}", self.api),
            web.post("/upload/{file_id}", self.upload),
            web.get("/files/{file_id}/{name}", self.file),
        ]

    async def lifespan(self, app: web.Application) -> AsyncIterator[None]:
        """Start the deliverer; at the end, stop pending deliveries and close it."""
        await self.deliverer.start()
        try:
            yield
        finally:
            for task in list(self.background):
                task.cancel()
            await asyncio.gather(*self.background, return_exceptions=True)
            await self.deliverer.close()

    def violation(self, text: str) -> None:
        """Record a contract violation (once)."""
        log.error("contract violation: %s", text)
        if text not in self.violations:
            self.violations.append(text)

    async def api(self, request: web.Request) -> web.StreamResponse:
        """One Web API call."""
        method = request.match_info["method"]
        self.calls[method] += 1
        self.workspace.files_base_url = _base_url(request)
        call = await _call(request, method)
        problems = [problem for check in self.checkers for problem in check(call)]
        for problem in problems:
            self.violation(problem)
        if (pending := self.rate_limits.get(method)) and pending:
            retry_after = pending.pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})  # fmt: skip
        answer = self._answer(method, call, problems, _base_url(request))
        if self.drops[method] > 0:
            self.drops[method] -= 1
            if request.transport is not None:
                request.transport.close()  # done, and the answer lost with the connection
        return web.json_response(answer)

    def _answer(self, method: str, call: Call, problems: list[str], base_url: str) -> dict[str, Any]:
        implementation = METHODS.get(method)
        if implementation is None:
            return {"ok": False, "error": "unknown_method"}
        token = call["args"].get("token") or str(call.get("authorization") or "").removeprefix("Bearer ")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.workspace.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        try:
            result = implementation(self.workspace, call["args"], base_url)
        except SlackError as exc:
            return {"ok": False, "error": exc.code}
        self._echo(method, call, result)
        return {"ok": True, **result}

    def _echo(self, method: str, call: Call, result: dict[str, Any]) -> None:
        """Deliver the ``message`` event of what the bot just posted, as Slack does, after the answer."""
        if not self.echo_bot_messages or method not in ("chat.postMessage", "files.completeUploadExternal"):
            return
        channel_id = call["args"].get("channel") or call["args"].get("channel_id")
        channel = self.workspace.channel(str(channel_id))
        ts = result["ts"] if method == "chat.postMessage" else share_ts(result["files"][0], channel)
        message = channel.messages[ts]
        delivery = self.deliverer.record("event", "application/json", event_callback(channel, message))
        self.spawn(self.deliverer.deliver(delivery))

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run ``work`` in the background, kept until it ends."""
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def upload(self, request: web.Request) -> web.Response:
        """The bytes of a reserved file (the raw body, or the first part of a multipart form)."""
        content, content_type = await _upload_content(request)
        try:
            receive_upload(self.workspace, request.match_info["file_id"], content, content_type)
        except SlackError:
            return web.Response(status=404, text="file not found")
        return web.Response(text=f"OK - {len(content)}")

    async def file(self, request: web.Request) -> web.Response:
        """A shared file's bytes, only with the bot token (else Slack's login page: here a 302 elsewhere)."""
        if request.headers.get("Authorization") != f"Bearer {self.workspace.bot_token}":
            raise web.HTTPFound("https://fake.slack.test/?redir=login")
        try:
            content, mimetype = file_content(self.workspace, request.match_info["file_id"])
        except SlackError:
            raise web.HTTPNotFound() from None
        return web.Response(body=content, content_type=mimetype)


def _base_url(request: web.Request) -> str:
    """Where the fake is reached: the API call's URL without ``/api/<method>`` (a mount's prefix kept)."""
    return f"{request.scheme}://{request.host}{request.path[: request.path.rindex('/api/')]}"


async def _call(request: web.Request, method: str) -> Call:
    args: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("Content-Type")
    if request.method == "POST" and request.body_exists:  # read already by a middleware: still there
        if str(content_type).startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                body = {"__invalid_json__": True}
            args.update(body if isinstance(body, dict) else {})
        else:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for name in _JSON_FIELDS:
        if isinstance(args.get(name), str) and args[name][:1] in "[{":
            with contextlib.suppress(ValueError):  # not JSON: the method answers invalid_arguments
                args[name] = json.loads(args[name])
    authorization = request.headers.get("Authorization")
    return {"method": method, "http_method": request.method, "content_type": content_type,
            "authorization": authorization, "args": args}  # fmt: skip


async def _upload_content(request: web.Request) -> tuple[bytes, str | None]:
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            return bytes(await part.read()), part.headers.get("Content-Type")
        return b"", None
    return await request.read(), request.headers.get("Content-Type")
