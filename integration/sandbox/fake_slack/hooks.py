"""The fake Slack's test hooks under ``/_test/``: people acting in the workspace, faults, and inspection.

Acting (each answers the deliveries it caused, with every attempt's answer):

* ``POST /_test/reply`` ``{channel, thread_ts, user, text?, file?: {name, content_base64}, forged?}``: a person
  posts in a thread (with a file: a ``file_share`` message); the app gets the signed ``message`` event.
* ``POST /_test/click`` ``{channel, ts, user, action_id, forged?}``: a person clicks a button of a message; the
  app gets the signed ``block_actions`` interactivity request (form ``payload=``).
* ``POST /_test/url_verification`` ``{challenge?}``: Slack checking the Request URL.
* ``POST /_test/redeliver`` ``{delivery}``: an earlier delivery again (``X-Slack-Retry-Num`` the next number).

``"forged": true`` signs with a wrong secret (and never retries). Settings and faults:

* ``POST /_test/config`` ``{request_url?, signing_secret?, retry_delays?, deadline_seconds?, late_answers?}``
  (``late_answers``: the next answers count as past the 3-second deadline, so Slack retries work already done);
* ``POST /_test/rate_limit`` ``{method, count?, retry_after?}``: the next ``count`` calls of ``method`` get 429;
* ``POST /_test/drop`` ``{method, count?}``: the next calls of ``method`` are done, their answers lost;
* ``POST /_test/user`` ``{id, real_name}``: add a person.

Inspection: ``GET /_test/calls`` (Web API calls by method), ``/_test/channel?channel=C..`` (every message, with
metadata), ``/_test/thread?channel=C..&ts=..``, ``/_test/ephemerals``, ``/_test/deliveries``, ``/_test/violations``.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .delivery import Delivery
from .files import add_agent_file, complete_upload, share_ts
from .payloads import block_actions, event_callback, url_verification
from .server import FakeSlack
from .workspace import SlackError

Act = Callable[[dict[str, Any]], Awaitable[list[Delivery]]]
FORM = "application/x-www-form-urlencoded"


class TestHooks:
    """The ``/_test/`` routes of one :class:`FakeSlack`."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    def routes(self) -> list[web.RouteDef]:
        """Every hook."""
        acting = {"reply": self.reply, "click": self.click, "url_verification": self.verify, "redeliver": self.again}
        posts = {"config": self.config, "rate_limit": self.rate_limit, "drop": self.drop, "user": self.user}
        gets = {"calls": self.calls, "channel": self.channel, "thread": self.thread, "ephemerals": self.ephemerals,
                "deliveries": self.deliveries, "violations": self.violations}  # fmt: skip
        return [
            *(web.post(f"/_test/{name}", _acting(act)) for name, act in acting.items()),
            *(web.post(f"/_test/{name}", handler) for name, handler in posts.items()),
            *(web.get(f"/_test/{name}", handler) for name, handler in gets.items()),
        ]

    async def reply(self, body: dict[str, Any]) -> list[Delivery]:
        """A person's reply in a thread (with a file when ``file`` is given)."""
        workspace = self.fake.workspace
        channel = workspace.channel(str(body["channel"]))
        user_id, thread_ts, text = str(body["user"]), str(body["thread_ts"]), str(body.get("text") or "")
        workspace.user(user_id)
        if file := body.get("file"):
            file_id = add_agent_file(workspace, str(file["name"]), base64.b64decode(file["content_base64"]))
            (shared,) = complete_upload(workspace, channel, [{"id": file_id}], thread_ts, text, user_id=user_id)
            message = channel.messages[share_ts(shared, channel)]
        else:
            message = workspace.add_message(channel, {"user": user_id, "text": text, "thread_ts": thread_ts})
        return [await self._deliver("event", "application/json", event_callback(channel, message), body)]

    async def click(self, body: dict[str, Any]) -> list[Delivery]:
        """A person's click on a button of a message."""
        channel = self.fake.workspace.channel(str(body["channel"]))
        form = block_actions(self.fake.workspace, channel, str(body["ts"]), str(body["user"]), str(body["action_id"]))
        return [await self._deliver("interactivity", FORM, form, body)]

    async def verify(self, body: dict[str, Any]) -> list[Delivery]:
        """Slack checking the Request URL with a challenge."""
        challenge = str(body.get("challenge") or "fake-challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        return [await self._deliver("url_verification", "application/json", url_verification(challenge), body)]

    async def again(self, body: dict[str, Any]) -> list[Delivery]:
        """An earlier delivery sent once more."""
        index = int(body["delivery"]) - 1
        if not 0 <= index < len(self.fake.deliverer.deliveries):
            raise KeyError(f"delivery {body['delivery']}")
        return [await self.fake.deliverer.redeliver(self.fake.deliverer.deliveries[index])]

    async def _deliver(self, kind: str, content_type: str, payload: bytes, body: dict[str, Any]) -> Delivery:
        deliverer = self.fake.deliverer
        return await deliverer.deliver(deliverer.record(kind, content_type, payload, forged=bool(body.get("forged"))))

    async def config(self, request: web.Request) -> web.Response:
        """Change where and how the fake delivers."""
        body = await request.json()
        settings = self.fake.deliverer.settings
        settings.request_url = body.get("request_url", settings.request_url)
        settings.signing_secret = body.get("signing_secret", settings.signing_secret)
        settings.retry_delays = tuple(body.get("retry_delays", settings.retry_delays))
        settings.deadline_seconds = float(body.get("deadline_seconds", settings.deadline_seconds))
        settings.late_answers = int(body.get("late_answers", settings.late_answers))
        return web.json_response({"request_url": settings.request_url, "retry_delays": settings.retry_delays})

    async def rate_limit(self, request: web.Request) -> web.Response:
        """Answer 429 to the next calls of a method."""
        body = await request.json()
        waits = [int(body.get("retry_after", 1))] * int(body.get("count", 1))
        self.fake.rate_limits.setdefault(str(body["method"]), []).extend(waits)
        return web.json_response({"rate_limited": self.fake.rate_limits})

    async def drop(self, request: web.Request) -> web.Response:
        """Lose the answers of the next calls of a method (the calls are done)."""
        body = await request.json()
        self.fake.drops[str(body["method"])] += int(body.get("count", 1))
        return web.json_response({"drops": dict(self.fake.drops)})

    async def user(self, request: web.Request) -> web.Response:
        """Add a person to the workspace."""
        body = await request.json()
        return web.json_response({"user": self.fake.workspace.add_user(str(body["id"]), str(body["real_name"]))})

    async def calls(self, request: web.Request) -> web.Response:
        """Web API calls served, by method."""
        return web.json_response({"calls": dict(self.fake.calls)})

    async def channel(self, request: web.Request) -> web.Response:
        """Every message of a channel, replies included, oldest first, with metadata."""
        channel = self.fake.workspace.channels.get(request.query.get("channel", ""))
        if channel is None:
            raise web.HTTPNotFound()
        return web.json_response({"channel": channel.info(), "messages": list(channel.messages.values())})

    async def thread(self, request: web.Request) -> web.Response:
        """One thread, the parent first, with metadata."""
        try:
            channel = self.fake.workspace.channel(request.query.get("channel", ""))
            return web.json_response({"messages": channel.thread(request.query.get("ts", ""))})
        except SlackError as exc:
            return web.json_response({"error": exc.code}, status=404)

    async def ephemerals(self, request: web.Request) -> web.Response:
        """Every ephemeral notice posted."""
        return web.json_response({"ephemerals": self.fake.workspace.ephemerals})

    async def deliveries(self, request: web.Request) -> web.Response:
        """Every delivery to the app, with its answers."""
        return web.json_response({"deliveries": [d.view() for d in self.fake.deliverer.deliveries]})

    async def violations(self, request: web.Request) -> web.Response:
        """Every contract violation seen."""
        return web.json_response({"violations": self.fake.violations})


def _acting(act: Act) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            done = await act(await request.json())
        except (KeyError, SlackError) as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response({"deliveries": [delivery.view() for delivery in done]})

    return handler
