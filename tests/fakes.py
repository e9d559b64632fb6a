"""FakeAdapter: an in-memory helpdesk for orchestration tests, and its contract-suite harness."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bp_modules.hitl import HitlText
from external_adapters import (
    AdapterContext,
    AdapterEnvironment,
    AgentAssigned,
    AgentMessage,
    AgentProfile,
    ExternalUserRequest,
    HelpdeskAdapter,
    InboundEvent,
    Installation,
    InvalidSignatureError,
    InvalidWebhookError,
    OpenSessionRequest,
    OutboundMessage,
    SessionClosed,
    UnavailableError,
    WebhookAck,
    WebhookReply,
    WebhookRequest,
    WebhookResult,
)

SIGNATURE_HEADER = "x-fake-signature"


class FakeConfig(BaseModel):
    """Per-installation configuration of the fake desk."""

    model_config = ConfigDict(populate_by_name=True)

    secret: SecretStr = Field(min_length=4)
    desk_name: str = Field(default="Fake Desk", alias="deskName")
    ack_first: bool = Field(default=False, alias="ackFirst")
    """Answer each webhook at once and have it applied afterwards (``acknowledge_webhook``), keyed by the body's
    ``delivery`` and ordered by its ``thread``, as Slack's adapter does with its event ids and threads."""


class FakeSession(BaseModel):
    """The fake desk's Studio card (unknown keys dropped, as every adapter's card must)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    tags: list[str] = Field(default_factory=list)


@dataclass
class FakeDesk:
    """Everything the fake helpdesk holds, shared by all adapter instances of a process."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    sent: list[OutboundMessage] = field(default_factory=list)
    subscriptions: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    fail_next_send: Exception | None = None
    message_ids: dict[str, str] = field(default_factory=dict)
    """The helpdesk id of each message sent, by its Botpress message id (what ``find_message`` reads)."""
    lose_next_answers: int = 0
    """How many of the next sends store their message, then fail as a lost answer would."""
    send_delay: float = 0.0
    """Seconds each send takes (a slow helpdesk, so that concurrent deliveries overlap)."""
    parsed: list[str | None] = field(default_factory=list)
    """The ``delivery`` of each webhook parsed, in the order they were (the ack mode's work keys)."""

    def new_id(self, prefix: str) -> str:
        """A fresh helpdesk id."""
        return f"{prefix}-{next(self.ids)}"


class FakeAdapter(HelpdeskAdapter[FakeConfig, FakeSession]):
    """A helpdesk that lives in memory and signs its webhooks with HMAC-SHA256 of the body."""

    name = "fake"
    title = "Fake desk"
    config_model = FakeConfig
    session_model = FakeSession
    entity_name = "fakeTicket"

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        yield FakeDesk()

    @property
    def desk(self) -> FakeDesk:
        """The shared in-memory desk."""
        assert isinstance(self.context.backend, FakeDesk)
        return self.context.backend

    async def subscribe(self, webhook_url: str) -> None:
        self.desk.calls.append("subscribe")
        self.desk.subscriptions[self.context.installation.bot_id] = webhook_url

    async def unsubscribe(self, webhook_url: str) -> None:
        self.desk.calls.append("unsubscribe")
        self.desk.subscriptions.pop(self.context.installation.bot_id, None)

    async def create_user(self, request: ExternalUserRequest) -> str:
        self.desk.calls.append("create_user")
        for user_id, user in self.desk.users.items():
            if user["external_id"] == request.bp_user_id:
                user.update(name=request.name, email=request.email)
                return user_id
        user_id = self.desk.new_id("u")
        self.desk.users[user_id] = {"external_id": request.bp_user_id, "name": request.name, "email": request.email}
        return user_id

    async def open_session(self, request: OpenSessionRequest[FakeSession]) -> str:
        self.desk.calls.append("open_session")
        if request.idempotency_key in self.desk.keys:
            return self.desk.keys[request.idempotency_key]
        session_id = self.desk.new_id("t")
        self.desk.keys[request.idempotency_key] = session_id
        self.desk.sessions[session_id] = {"request": request, "status": "open", "conversation": None}
        return session_id

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        self.desk.sessions[external_session_id]["conversation"] = bp_conversation_id

    async def close_session(self, external_session_id: str) -> None:
        self.desk.calls.append("close_session")
        session = self.desk.sessions.get(external_session_id)
        if session is not None:
            session["status"] = "closed"

    async def send_message(self, request: OutboundMessage) -> str:
        desk = self.desk
        desk.calls.append("send_message")
        if desk.fail_next_send is not None:
            error, desk.fail_next_send = desk.fail_next_send, None
            raise error
        if desk.send_delay:
            await asyncio.sleep(desk.send_delay)
        desk.sent.append(request)
        message_id = desk.message_ids[request.bp_message_id] = desk.new_id("m")
        if desk.lose_next_answers > 0:
            desk.lose_next_answers -= 1
            raise UnavailableError("fake", "POST", "/messages", None, "the answer was lost")
        return message_id

    async def find_message(self, request: OutboundMessage) -> str | None:
        self.desk.calls.append("find_message")
        return self.desk.message_ids.get(request.bp_message_id)

    async def verify_webhook(self, request: WebhookRequest) -> None:
        expected = sign(self.config.secret.get_secret_value(), request.body or "")
        if not hmac.compare_digest(expected, request.headers.get(SIGNATURE_HEADER, "")):
            raise InvalidSignatureError("fake desk: bad signature")

    async def acknowledge_webhook(self, request: WebhookRequest) -> WebhookAck | None:
        if not self.config.ack_first:
            return None
        raw = _body(request)
        return WebhookAck(
            reply=WebhookReply(body='{"ok":true}'), work_key=raw.get("delivery"), order_key=raw.get("thread")
        )

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        raw = _body(request)
        try:
            events = [_event(item) for item in raw["events"]]
        except (KeyError, TypeError) as exc:
            raise InvalidWebhookError(f"fake desk: unreadable webhook ({type(exc).__name__})") from None
        self.desk.parsed.append(raw.get("delivery"))
        return WebhookResult(events=events)


def _body(request: WebhookRequest) -> dict[str, Any]:
    try:
        raw = json.loads(request.body or "")
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise InvalidWebhookError("fake desk: unreadable webhook (not a JSON object)")
    return raw


def _event(item: dict[str, Any]) -> InboundEvent:
    agent = AgentProfile(external_user_id=item.get("agent", "agent-1"), name=item.get("agentName", "Bob"))
    common = {"external_session_id": item["session"], "dedupe_key": item.get("key")}
    if item["kind"] == "reply":
        message = HitlText(text=item["text"], additional_data=item.get("additionalData"))
        return AgentMessage(**common, external_message_id=item["message"], agent=agent, message=message)
    if item["kind"] == "assign":
        return AgentAssigned(**common, agent=agent)
    return SessionClosed(**common, reason=item.get("reason"))


def sign(secret: str, body: str) -> str:
    """The fake desk's signature of a body."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def fake_webhook(
    secret: str, *events: dict[str, Any], path: str = "/events", delivery: str | None = None, thread: str | None = None
) -> WebhookRequest:
    """A signed webhook request carrying ``events`` (and, for the ack mode, its ``delivery`` id and ``thread``)."""
    extra = {name: value for name, value in [("delivery", delivery), ("thread", thread)] if value is not None}
    body = json.dumps({"events": list(events), **extra})
    return WebhookRequest(method="POST", path=path, headers={SIGNATURE_HEADER: sign(secret, body)}, body=body)


class FakeHarness:
    """The contract-suite harness of the fake desk."""

    secret = "s3cret-fake"
    webhook_url = "https://webhook.example.test/hook-1"
    media_base_url = "https://media.example.test"
    bad_config: tuple[dict[str, Any], str] = ({"secret": "x"}, "secret")
    bad_session_options: tuple[dict[str, Any], str] = ({"priority": "critical"}, "priority")

    def __init__(self, adapter: FakeAdapter) -> None:
        self.adapter = adapter
        self._ids = itertools.count(1)

    async def agent_reply(self, external_session_id: str, text: str) -> WebhookRequest:
        n = next(self._ids)
        event = {"kind": "reply", "session": external_session_id, "text": text, "message": f"c-{n}", "key": f"k-{n}"}
        return fake_webhook(self.secret, event)

    async def assign(self, external_session_id: str) -> WebhookRequest:
        return fake_webhook(self.secret, {"kind": "assign", "session": external_session_id, "key": "assign-1"})

    async def close(self, external_session_id: str) -> WebhookRequest:
        return fake_webhook(self.secret, {"kind": "close", "session": external_session_id, "key": "close-1"})

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        return request.model_copy(update={"headers": {SIGNATURE_HEADER: "0" * 64}})

    async def restart(self) -> None:
        """A new adapter on the same desk (the desk stands for the helpdesk's durable data)."""
        self.adapter = FakeAdapter(self.adapter.config, self.adapter.context)

    def drop_next_answer(self) -> None:
        self.adapter.desk.lose_next_answers += 1

    async def delivered(self, external_session_id: str) -> list[str]:
        sent = [request for request in self.adapter.desk.sent if request.external_session_id == external_session_id]
        return [request.message.text for request in sent if isinstance(request.message, HitlText)]


def fake_adapter(
    env: AdapterEnvironment, desk: FakeDesk | None = None, secret: str = FakeHarness.secret
) -> FakeAdapter:
    """A ready fake adapter outside of any server."""
    installation = Installation("bot_x", "user_bot", "intver_x", "hitl", "wh_x")
    config = FakeAdapter.parse_config({"secret": secret})
    return FakeAdapter(config, AdapterContext(installation, _MemoryState(), env, desk or FakeDesk()))


class _MemoryState:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def get(self, name: str) -> Any:
        return self.values.get(name)

    async def set(self, name: str, payload: Any) -> None:
        self.values[name] = payload
