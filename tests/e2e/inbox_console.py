"""The inbox's side of the multi-process tests: workers' settings, agents in the console, and the admin API.

:class:`Agent` is one agent using the console API of one URL (a worker, or the proxy): login, the live WebSocket,
claim, reply. :class:`Admin` reads what the inbox stored through the admin API. :func:`inbox_runtime` is the
Botpress runtime of an installation of the inbox.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx

from .cluster import Cluster, Runtime

ADMIN_EMAIL = "admin@inbox.test"
PASSWORD = "a long e2e password"
ADMIN_TOKEN = "e2e-admin-token"
CLIENT = {"X-Inbox-Client": "e2e"}
INBOX_ENV = {
    "HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__ADMIN_EMAIL": ADMIN_EMAIL,
    "HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__ADMIN_PASSWORD": PASSWORD,
    "HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__ADMIN_TOKEN": ADMIN_TOKEN,
    # A killed worker's leased outbox rows go to another (or to itself, restarted) after this, not after 2 minutes.
    "HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__DELIVERY_LEASE_SECONDS": "3",
    "HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__DELIVERY_MAX_SECONDS": "1",
    # No HITL plugin tags the conversation here: apply the inbox's events at once rather than after 10 s.
    "HITL_BRIDGE_PLUGIN_TAKEOVER_WAIT_SECONDS": "0",
}


def inbox_runtime(http: httpx.AsyncClient, running: Cluster) -> Runtime:
    """The runtime of one installation of the inbox."""
    return Runtime(http, running.botpress_url, {"adapter": "inbox"})


async def start_handoff(runtime: Runtime, proxy_url: str, start_url: str) -> tuple[str, str, str]:
    """register through the proxy, then createUser and startHitl to ``start_url``: the Botpress user id, hitl
    conversation id and inbox session id."""
    await runtime.relay_to(proxy_url)
    await runtime.register(proxy_url)
    bp_user_id = await runtime.create_user(start_url, "Jane Doe", "jane@example.com")
    start = {"userId": bp_user_id, "title": "Refund", "messageHistory": []}
    answer = await runtime.action(start_url, "startHitl", start)
    assert answer.status_code == 200, answer.text
    bp_conversation_id: str = answer.json()["output"]["conversationId"]
    conversation = (await runtime.state())["conversations"][bp_conversation_id]
    return bp_user_id, bp_conversation_id, conversation["tags"]["id"]


class Agent:
    """One agent signed in to the console at ``url`` (bearer token, as the console's API clients do)."""

    def __init__(self, http: httpx.AsyncClient, url: str, email: str) -> None:
        self.http, self.url, self.email = http, url, email
        self.token = self.agent_id = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **CLIENT}

    async def login(self) -> Agent:
        answer = await self.http.post(f"{self.url}/console/api/login", json={"email": self.email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        self.token, self.agent_id = answer.json()["token"], answer.json()["agent"]["id"]
        return self

    async def claim(self, session_id: str) -> httpx.Response:
        return await self.http.post(f"{self.url}/console/api/sessions/{session_id}/claim", headers=self.headers)

    async def reply(self, session_id: str, text: str) -> httpx.Response:
        url = f"{self.url}/console/api/sessions/{session_id}/messages"
        return await self.http.post(url, json={"text": text}, headers=self.headers)

    async def session(self, session_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"{self.url}/console/api/sessions/{session_id}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        detail: dict[str, Any] = answer.json()
        return detail

    @asynccontextmanager
    async def live(self) -> AsyncIterator[LiveFeed]:
        """The console's live WebSocket on this agent's worker, its ``hello`` already read."""
        url = f"{self.url}/console/api/live"
        async with aiohttp.ClientSession() as client, client.ws_connect(url, headers=self.headers) as ws:
            feed = LiveFeed(ws)
            hello = await feed.next_event()
            assert hello["type"] == "hello", hello
            yield feed


class LiveFeed:
    """The events of one live socket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def next_event(self) -> dict[str, Any]:
        message = await self.ws.receive()
        assert message.type is aiohttp.WSMsgType.TEXT, message
        event: dict[str, Any] = json.loads(message.data)
        return event

    async def until(self, event_type: str, session_id: str, *, within_seconds: float) -> dict[str, Any]:
        """The first ``event_type`` event about ``session_id``; fails if none comes within the bound."""
        try:
            async with asyncio.timeout(within_seconds):
                while True:
                    event = await self.next_event()
                    if event["type"] == event_type and _about(event, session_id):
                        return event
        except TimeoutError:
            raise AssertionError(f"no {event_type!r} event for {session_id} within {within_seconds:g}s") from None


def _about(event: dict[str, Any], session_id: str) -> bool:
    data = event.get("data") or {}
    return bool(data.get("sessionId") == session_id or (data.get("session") or {}).get("id") == session_id)


class Admin:
    """The inbox's admin API at ``url``."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url
        self.headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def create_agent(self, email: str, name: str) -> None:
        body = {"email": email, "password": PASSWORD, "name": name}
        answer = await self.http.post(f"{self.url}/admin/api/agents", json=body, headers=self.headers)
        assert answer.status_code == 201, answer.text

    async def messages(self, session_id: str) -> list[dict[str, Any]]:
        """What the inbox stored for the session (as stored: redacted)."""
        answer = await self.http.get(f"{self.url}/admin/api/sessions/{session_id}/transcript", headers=self.headers)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found
