"""Counting upstream calls per operation through the contract-checked respx routers, and driving the app.

Every request the integration sends to Botpress passes through ``bp_api`` and every one to Zendesk through
``zendesk_api``; both record their calls. :class:`CallLog` reads those records between two marks and names each
call by method and path template (ids replaced by ``{id}``) plus the names of its query parameters, so a pin that
breaks says which call was added or dropped.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from aiohttp.test_utils import TestClient

from external_adapters import WebhookRequest
from tests.factories import action_body, message_created_body, runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

_VERSION = re.compile(r"^v\d+$")
_JSON = ".json"

Calls = tuple[str, ...]
"""One operation's calls to one upstream, in the order sent: ``"GET /v1/chat/users/{id}"``."""


def call_name(request: httpx.Request) -> str:
    """``METHOD /path/{id}?query,keys``: a segment holding a digit is an id (``v1``, ``v2`` are not)."""
    path = request.url.path
    suffix = _JSON if path.endswith(_JSON) else ""
    segments = path[: len(path) - len(suffix)].split("/")
    template = "/".join(_template_segment(s) for s in segments) + suffix
    keys = sorted(set(request.url.params.keys()))
    return f"{request.method} {template}" + (f"?{','.join(keys)}" if keys else "")


def _template_segment(segment: str) -> str:
    if _VERSION.match(segment) or not any(c.isdigit() for c in segment):
        return segment
    return "{id}"


@dataclass
class CallLog:
    """The calls each upstream saw during each measured operation, by label."""

    upstreams: Mapping[str, respx.MockRouter]
    """Upstream name (``"botpress"``, ``"zendesk"``) -> the router that sees all of its requests."""
    measured: dict[str, dict[str, Calls]] = field(default_factory=dict)

    async def measure(self, label: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``operation`` and record, under ``label``, the calls it made to each upstream."""
        assert label not in self.measured, f"{label} measured twice"
        marks = {name: len(router.calls) for name, router in self.upstreams.items()}
        result = await operation()
        self.measured[label] = {
            name: tuple(call_name(call.request) for call in router.calls[marks[name] :])
            for name, router in self.upstreams.items()
        }
        return result


def pin_differences(measured: Mapping[str, Mapping[str, Calls]], pinned: Mapping[str, Mapping[str, Calls]]) -> str:
    """One line per operation and upstream whose calls differ from the pin, naming the calls added and missing."""
    lines = []
    for label in sorted(measured.keys() | pinned.keys()):
        seen, pin = measured.get(label, {}), pinned.get(label, {})
        for upstream in sorted(seen.keys() | pin.keys()):
            got, want = seen.get(upstream, ()), pin.get(upstream, ())
            if got != want:
                added, missing = Counter(got) - Counter(want), Counter(want) - Counter(got)
                lines.append(
                    f"{label} / {upstream}: {len(got)} calls, pinned {len(want)}; added {dict(added)}, "
                    f"missing {dict(missing)}; measured in order: {list(got)}"
                )
    return "\n".join(lines)


# --- driving the app --------------------------------------------------------------------------------------------


class Bridge:
    """The real app on one adapter configuration, driven as the Botpress runtime drives it."""

    def __init__(
        self, client: TestClient[Any, Any], configuration: dict[str, Any], fake_botpress: FakeBotpress
    ) -> None:
        self.client = client
        self.configuration = configuration
        self.botpress = fake_botpress
        self._message_numbers = itertools.count(1)

    async def call(self, operation: str, body: Any) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        response = await self.client.post("/", data=data, headers=runtime_headers(operation, self.configuration))
        text = await response.text()
        assert response.status == 200, text
        return json.loads(text) if text else None

    async def action(self, name: str, action_input: Any) -> Any:
        return (await self.call("action_triggered", action_body(name, action_input)))["output"]

    async def create_user(self, email: str | None) -> str:
        user_input = {"name": "Jane Doe", **({"email": email} if email else {})}
        bp_user_id: str = (await self.action("createUser", user_input))["userId"]
        return bp_user_id

    async def start_hitl(self, bp_user_id: str, title: str, history_size: int = 0) -> tuple[str, str]:
        """startHitl; returns the Botpress conversation id and the helpdesk session id."""
        start = {"userId": bp_user_id, "title": title, "messageHistory": history(bp_user_id, history_size)}
        bp_conversation_id: str = (await self.action("startHitl", start))["conversationId"]
        return bp_conversation_id, self.botpress.conversations[bp_conversation_id]["tags"]["id"]

    def text_message(self, bp_conversation_id: str, external_session_id: str, bp_user_id: str) -> str:
        """A new ``message_created`` body for a user's text on the hitl channel, held by the fake Botpress."""
        n = next(self._message_numbers)
        body = message_created_body(
            bp_conversation_id=bp_conversation_id,
            external_session_id=external_session_id,
            bp_message_id=f"msg_01JCOUNT{n:020d}",
            message_type="text",
            payload={"text": f"message {n}", "userId": bp_user_id},
        )
        self.botpress.seed_bot_message(json.loads(body))
        return body

    async def webhook(self, request: WebhookRequest) -> None:
        await self.call("webhook_received", webhook_body(request.model_dump()))


def history(bp_user_id: str, size: int) -> list[dict[str, Any]]:
    """``size`` text messages, the bot and the user taking turns."""
    sources = ({"type": "bot"}, {"type": "user", "userId": bp_user_id})
    return [{"source": sources[i % 2], "type": "text", "payload": {"text": f"line {i}"}} for i in range(size)]
