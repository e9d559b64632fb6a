"""What the inbound-side tests share: signed deliveries, an adapter on a real coordinator, mocked Slack calls."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import respx
from pydantic import JsonValue

from coordination import Coordinator
from external_adapters import AdapterContext, AdapterEnvironment, Installation, WebhookRequest
from external_adapters.slack.adapter import SlackAdapter
from external_adapters.slack.files_in import FileStore
from external_adapters.slack.runtime import SlackRuntime

API = "https://slack.com/api"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-123-456-secrettokenvalue"
NOW = 1_733_100_600.0
CHANNEL = "C0123ABC"
PARENT_TS = "1733100000.000100"
SESSION_ID = f"{CHANNEL}:{PARENT_TS}"
BOT_USER = "U0BOT0001"
ALICE, BOB = "U0ALICE01", "U0BOB0001"
PUBLIC_URL = "https://bridge.example.com"
CONFIG: dict[str, Any] = {"botToken": BOT_TOKEN, "signingSecret": SECRET, "channelId": CHANNEL}
INSTALLATION = Installation(
    bot_id="bot_01JTEST",
    bot_user_id="botuser_01JTEST",
    integration_id="intver_01JSLACK",
    integration_alias="hitl",
    webhook_id="wh_01JSLACK",
)
PARENT_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "title", "text": {"type": "mrkdwn", "text": "*Refund please*"}},
    {
        "type": "actions",
        "block_id": "hitl_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "hitl_claim",
                "value": SESSION_ID,
                "text": {"type": "plain_text", "text": "Claim"},
            },
            {
                "type": "button",
                "action_id": "hitl_close",
                "value": SESSION_ID,
                "text": {"type": "plain_text", "text": "Close"},
            },
        ],
    },
]


class NoState:
    """The integration state store: unused on the inbound side."""

    async def get(self, name: str) -> dict[str, JsonValue] | None:
        return None

    async def set(self, name: str, payload: dict[str, JsonValue] | None) -> None:
        return None


def sign(body: str, timestamp: str, secret: str = SECRET) -> str:
    """Slack's v0 signature, written out (not through slack_sdk) so the tests check the library's use."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def delivery(body: str, *, at: float = NOW, retry: int | None = None, secret: str = SECRET) -> WebhookRequest:
    """A signed request as Slack sends it (``retry``: the ``X-Slack-Retry-Num`` of a redelivery)."""
    timestamp = str(int(at))
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(body, timestamp, secret)}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return WebhookRequest(method="POST", path="/", headers=headers, body=body)


def event_body(event: dict[str, Any], event_id: str = "Ev0001") -> str:
    """An ``event_callback`` delivery's JSON, for the bot user :data:`BOT_USER`."""
    wrapper = {
        "type": "event_callback",
        "token": "legacy",
        "team_id": "T0TEAM",
        "api_app_id": "A0APP",
        "event": event,
        "event_id": event_id,
        "event_time": int(NOW),
        "authorizations": [{"team_id": "T0TEAM", "user_id": BOT_USER, "is_bot": True}],
    }
    return json.dumps(wrapper)


def reply(text: str, *, user: str = ALICE, ts: str = "1733100100.000200", **extra: Any) -> dict[str, Any]:
    """An agent's reply in the handoff thread."""
    return {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": PARENT_TS,
        "channel": CHANNEL,
        **extra,
    }


def click_body(action_id: str, user: str = ALICE, action_ts: str = "1733100200.111111") -> str:
    """A block_actions delivery, form-encoded as Slack sends it."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM"},
        "channel": {"id": CHANNEL, "name": "support"},
        "container": {"type": "message", "message_ts": PARENT_TS, "channel_id": CHANNEL, "is_ephemeral": False},
        "message": {"type": "message", "ts": PARENT_TS, "text": "Refund please", "blocks": PARENT_BLOCKS},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "hitl_actions",
                "value": SESSION_ID,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class Clock:
    """A settable clock."""

    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Kit:
    """An adapter (made anew for each call, as the integration does per request) and what it runs on."""

    coordinator: Coordinator
    http: httpx.AsyncClient
    files: FileStore | None
    clock: Clock = field(default_factory=Clock)
    public_url: str | None = PUBLIC_URL

    def adapter(self, **config: Any) -> SlackAdapter:
        env = AdapterEnvironment(
            http=self.http, data_dir=Path("/nonexistent"), coordinator=self.coordinator, public_url=self.public_url
        )
        runtime = SlackRuntime(sleep=_no_sleep, clock=self.clock, files=self.files)
        context = AdapterContext(INSTALLATION, NoState(), env, backend=runtime)
        return SlackAdapter(SlackAdapter.parse_config({**CONFIG, **config}), context)

    async def open_session(self, **record: JsonValue) -> None:
        """Store the session data ``open_session`` keeps (shared decision), plus ``record``."""
        data: dict[str, JsonValue] = {
            "channel_id": CHANNEL,
            "parent_ts": PARENT_TS,
            "claimed_by": None,
            "closed": False,
        }
        await self.adapter().context.sessions.update(SESSION_ID, lambda _: {**data, **record})

    async def record(self) -> dict[str, JsonValue] | None:
        return await self.adapter().context.sessions.get(SESSION_ID)


async def _no_sleep(seconds: float) -> None:
    return None


def mock_users(router: respx.Router, names: dict[str, str]) -> respx.Route:
    """``users.info`` answering each id in ``names`` (real_name, image_192), ``user_not_found`` otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        user_id = request.url.params["user"]
        if user_id not in names:
            return httpx.Response(200, json={"ok": False, "error": "user_not_found"})
        profile = {
            "real_name": names[user_id],
            "display_name": user_id.lower(),
            "image_192": f"https://avatars.slack-edge.com/{user_id}_192.png",
        }
        return httpx.Response(
            200,
            json={
                "ok": True,
                "user": {"id": user_id, "name": user_id.lower(), "real_name": names[user_id], "profile": profile},
            },
        )

    return router.get(f"{API}/users.info").mock(side_effect=answer)


def mock_ephemeral(router: respx.Router) -> respx.Route:
    """``chat.postEphemeral``, answered ok."""
    return router.post(f"{API}/chat.postEphemeral").mock(
        return_value=httpx.Response(200, json={"ok": True, "message_ts": "1733100300.000001"})
    )


def mock_update(router: respx.Router) -> respx.Route:
    """``chat.update``, answered ok."""
    return router.post(f"{API}/chat.update").mock(
        return_value=httpx.Response(200, json={"ok": True, "channel": CHANNEL, "ts": PARENT_TS, "text": ""})
    )


def sent_json(route: respx.Route, index: int = -1) -> dict[str, Any]:
    """The JSON body of one call of ``route``."""
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body
