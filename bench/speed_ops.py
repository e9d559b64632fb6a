"""The operations ``bench_speed.py`` sends, as the Botpress runtime sends them, over one keep-alive aiohttp client.

Bodies and headers are built before a timed series; what a timed request does is one ``POST`` and reading its
answer. The fakes' ``/_test/...`` endpoints prepare what an operation needs (a message held by Botpress, an agent
comment made in Zendesk) outside the timed part.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.e2e.cluster import hitl_text_body
from tests.e2e.conftest import ZENDESK_CREDENTIALS
from tests.factories import WEBHOOK_ID, action_body, runtime_headers
from tests.integration.call_log import history

RUN = uuid.uuid4().hex[:8]
"""Marks this run's texts, so the checks find exactly the ones it sent."""
MESSAGE_TOKEN = re.compile(rf"bench-msg-{RUN}-\d+")
REPLY_TOKEN = re.compile(rf"bench-reply-{RUN}-\d+")


@dataclass(frozen=True)
class Session:
    """One handoff: the Botpress user, the hitl conversation and the Zendesk ticket."""

    bp_user_id: str
    bp_conversation_id: str
    zendesk_ticket_id: str


@dataclass(frozen=True)
class Prepared:
    """One operation ready to send: its ``x-bp-operation`` and its body."""

    operation: str
    body: bytes


class Bridge:
    """The bridge and the two fakes, seen from the load generator."""

    def __init__(self, http: aiohttp.ClientSession, bridge_url: str, botpress_url: str, zendesk_url: str) -> None:
        self.http, self.url, self.botpress_url, self.zendesk_url = http, bridge_url, botpress_url, zendesk_url
        configuration = {**ZENDESK_CREDENTIALS, "adapter": "zendesk", "baseUrl": zendesk_url}
        operations = ("register", "action_triggered", "message_created", "webhook_received")
        self.headers = {name: runtime_headers(name, configuration) for name in operations}

    async def send(self, prepared: Prepared) -> tuple[int, bytes]:
        """The timed part of an operation: one POST to the bridge, its status and body."""
        async with self.http.post(self.url, data=prepared.body, headers=self.headers[prepared.operation]) as answer:
            return answer.status, await answer.read()

    async def setup(self) -> None:
        """What the runtime does once: the relay's target (the bridge) and ``register``."""
        relay = {"url": self.url, "headers": self.headers["webhook_received"]}
        await self.fake_post(self.botpress_url, "/_test/integration", relay)
        webhook_url = f"{self.botpress_url}/webhook/{WEBHOOK_ID}"
        status, body = await self.send(Prepared("register", json.dumps({"webhookUrl": webhook_url}).encode()))
        assert status == 200, body

    async def fake_post(self, fake_url: str, path: str, body: Any) -> Any:
        async with self.http.post(fake_url + path, json=body) as answer:
            answer.raise_for_status()
            return await answer.json()

    async def fake_get(self, fake_url: str, path: str) -> Any:
        async with self.http.get(fake_url + path) as answer:
            answer.raise_for_status()
            return await answer.json()

    async def calls(self) -> dict[str, dict[str, int]]:
        """The fakes' request counters, by upstream and call name."""
        botpress = (await self.fake_get(self.botpress_url, "/_test/calls"))["calls"]
        zendesk = (await self.fake_get(self.zendesk_url, "/_test/calls"))["calls"]
        return {"botpress": botpress, "zendesk": zendesk}


# --- the operations -------------------------------------------------------------------------------------------


def create_user(number: int) -> Prepared:
    user = {"name": f"Bench User {number}", "email": f"bench-{RUN}-{number}@example.com"}
    return Prepared("action_triggered", action_body("createUser", user).encode())


def start_hitl(bp_user_id: str, number: int, history_size: int) -> Prepared:
    start = {
        "userId": bp_user_id,
        "title": f"Bench {RUN} {number}",
        "messageHistory": history(bp_user_id, history_size),
    }
    return Prepared("action_triggered", action_body("startHitl", start).encode())


def stop_hitl(session: Session) -> Prepared:
    return Prepared(
        "action_triggered", action_body("stopHitl", {"conversationId": session.bp_conversation_id}).encode()
    )


def message(session: Session, number: int) -> tuple[str, Prepared]:
    """A new end-user text (its Botpress message id never used) and the body the runtime holds for it."""
    bp_message_id = f"msg_01JBENCH{uuid.uuid4().hex[:20].upper()}"
    text = f"bench-msg-{RUN}-{number}"
    body = hitl_text_body(
        session.bp_conversation_id, session.zendesk_ticket_id, session.bp_user_id, bp_message_id, text
    )
    return body, Prepared("message_created", body.encode())


def output(body: bytes) -> dict[str, Any]:
    """An action's ``output``."""
    result: dict[str, Any] = json.loads(body)["output"]
    return result


async def agent_comment(bridge: Bridge, session: Session, number: int) -> list[Prepared]:
    """An agent's public reply made in the fake Zendesk; its trigger deliveries as ``webhook_received`` bodies.

    The fake signs and records them without sending them (``deliver: false``): the benchmark sends each one the way
    ``webhook.botpress.cloud`` relays it, so that only the bridge's handling is timed."""
    html = f"<p>bench-reply-{RUN}-{number}</p>"
    comment = {"ticket_id": int(session.zendesk_ticket_id), "html": html, "deliver": False}
    fired = (await bridge.fake_post(bridge.zendesk_url, "/_test/agent_comment", comment))["deliveries"]
    return [Prepared("webhook_received", relayed(delivery)) for delivery in fired]


def relayed(delivery: dict[str, Any]) -> bytes:
    """What the fake Botpress's relay would send for this delivery (``tests/e2e/botpress_server.py: relay``)."""
    url, body = urlsplit(delivery["url"]), delivery["body"]
    headers = {k.lower(): v for k, v in delivery["headers"].items()}
    headers |= {"host": url.netloc, "content-length": str(len(body.encode()))}
    req = {"method": "POST", "path": url.path, "query": url.query, "headers": headers, "body": body}
    return json.dumps({"req": req}).encode()


def relayed_ok(status: int, body: bytes) -> bool:
    """A ``webhook_received`` handled: 200, and the answer it gives the helpdesk is a success too."""
    if status != 200:
        return False
    reply = json.loads(body) if body else {}
    return 200 <= int(reply.get("status", 200)) < 300


# --- the checks -----------------------------------------------------------------------------------------------


async def sessions_of(bridge: Bridge, bp_conversation_ids: list[tuple[str, str]]) -> list[Session]:
    """The sessions (``(bp_user_id, bp_conversation_id)`` pairs) with their tickets, read from the fake Botpress."""
    conversations = (await bridge.fake_get(bridge.botpress_url, "/_test/state"))["conversations"]
    return [Session(user, conv, str(conversations[conv]["tags"]["id"])) for user, conv in bp_conversation_ids]


async def missing_messages(bridge: Bridge, sent: set[str]) -> set[str]:
    """End-user texts sent that no Zendesk comment holds."""
    state = json.dumps((await bridge.fake_get(bridge.zendesk_url, "/_test/state"))["tickets"])
    return sent - set(MESSAGE_TOKEN.findall(state))


async def missing_replies(bridge: Bridge, sent: set[str]) -> set[str]:
    """Agent replies sent that no Botpress message holds."""
    messages = (await bridge.fake_get(bridge.botpress_url, "/_test/state"))["messages"]
    return sent - set(REPLY_TOKEN.findall(json.dumps(messages)))


async def missing_tickets(bridge: Bridge, sessions: list[Session]) -> list[Session]:
    """Sessions whose ticket the fake Zendesk does not have."""
    tickets = (await bridge.fake_get(bridge.zendesk_url, "/_test/state"))["tickets"]
    return [session for session in sessions if session.zendesk_ticket_id not in tickets]


async def violations(bridge: Bridge) -> list[str]:
    found: list[str] = []
    for fake in (bridge.botpress_url, bridge.zendesk_url):
        found += (await bridge.fake_get(fake, "/_test/violations"))["violations"]
    return found
