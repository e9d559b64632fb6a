"""The adapter surface: lifespan, options, webhooks in and out, errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bp_modules.hitl import HistoryMessage, HitlText
from coordination import Coordinator, PostgresCoordinator, PostgresDatabase
from external_adapters.base import (
    AdapterContext,
    AdapterEnvironment,
    EndUser,
    ExternalUserRequest,
    OpenSessionRequest,
    OutboundMessage,
    Transcript,
    WebhookRequest,
)
from external_adapters.errors import (
    AdapterConfigError,
    ExternalNotFoundError,
    InvalidSignatureError,
    InvalidWebhookError,
    UnavailableError,
)
from external_adapters.events import AgentMessage
from external_adapters.inbox import InboxAdapter, InboxService, InboxSession, parse_options

from .conftest import Clock, add_agent
from .harness import INSTALLATION, WEBHOOK_URL, MemoryState, make_adapter, signed_request


def _history() -> Transcript:
    messages = [
        HistoryMessage.model_validate(
            {
                "source": {"type": "user", "userId": "u1"},
                "type": "text",
                "payload": {"text": "card 4111 1111 1111 1111"},
            }
        ),
        HistoryMessage.model_validate({"source": {"type": "bot"}, "type": "text", "payload": {"text": "Let me check"}}),
    ]
    return Transcript(text="", markdown="", html="", messages=messages, omitted=3, omitted_at=1)


def _open(options: dict[str, Any] | None = None, key: str = "key-1") -> OpenSessionRequest[InboxSession]:
    return OpenSessionRequest[InboxSession](
        end_user=EndUser(bp_user_id="user_1", external_user_id="con_x", name="Jane", email="Jane@Example.com"),
        title="Refund",
        options=InboxAdapter.parse_session_options(options or {}),
        transcript=_history(),
        idempotency_key=key,
    )


@pytest.fixture
async def adapter(service: InboxService, tmp_path: Path, coordinator: Coordinator) -> Any:
    async with httpx.AsyncClient() as http:
        adapter = make_adapter(service, http, tmp_path, coordinator, defaultRuleTags=["support"])
        await adapter.subscribe(WEBHOOK_URL)
        yield adapter


async def test_open_session_stores_the_redacted_history_and_finds_the_contact(
    adapter: InboxAdapter, service: InboxService
) -> None:
    agent = await add_agent(service, "alice", groups=("support",))
    contact_id = await adapter.create_user(
        ExternalUserRequest(bp_user_id="user_1", name="Jane", email="jane@example.com")
    )
    session_id = await adapter.open_session(_open({"contactPhone": "+15550100"}))
    detail = await service.queries.detail(agent, session_id)
    assert detail["contact"]["id"] == contact_id and detail["contact"]["phone"] == "+15550100"
    assert detail["session"]["rule_tags"] == ["support"]
    texts = [(m["direction"], m["payload"]["source"], m["text"]) for m in detail["messages"]]
    assert texts == [
        ("transcript", "user", "card [card number redacted]"),
        ("transcript", "bot", "… 3 messages omitted …"),
        ("transcript", "bot", "Let me check"),
    ]


async def test_send_message_to_a_missing_session_is_not_found(adapter: InboxAdapter) -> None:
    request = OutboundMessage(
        external_session_id="ses_nope", author_external_id=None, message=HitlText(text="hi"), bp_message_id="m1"
    )
    with pytest.raises(ExternalNotFoundError):
        await adapter.send_message(request)
    with pytest.raises(ExternalNotFoundError):
        await adapter.link_session("ses_nope", "conv_1")


async def test_verify_refuses_stale_unknown_and_unsigned(
    adapter: InboxAdapter, service: InboxService, clock: Clock
) -> None:
    body = json.dumps({"id": "evt_1", "type": "session_closed", "sessionId": "ses_1"})
    fresh = await signed_request(service, "evt_1", body, int(clock()))
    await adapter.verify_webhook(fresh)
    stale = await signed_request(service, "evt_1", body, int(clock()) - 301)
    with pytest.raises(InvalidSignatureError, match="window"):
        await adapter.verify_webhook(stale)
    with pytest.raises(InvalidSignatureError, match="missing"):
        await adapter.verify_webhook(WebhookRequest(method="POST", path="/", body=body))
    other = AdapterContext(
        installation=INSTALLATION.__class__(**{**INSTALLATION.__dict__, "bot_id": "bot_other"}),
        state=MemoryState(),
        env=adapter.context.env,
        backend=service,
    )
    with pytest.raises(InvalidSignatureError, match="unknown installation"):
        await InboxAdapter(adapter.config, other).verify_webhook(fresh)


async def test_parse_webhook_ignores_unknown_types_and_refuses_garbage(adapter: InboxAdapter) -> None:
    unknown = WebhookRequest(method="POST", path="/", body=json.dumps({"type": "ping", "sessionId": "s"}))
    assert (await adapter.parse_webhook(unknown)).events == []
    too_deep = "[" * 100_000 + "]" * 100_000
    for body in ("not json", "[1]", json.dumps({"type": "agent_message", "sessionId": "s"}), too_deep):
        with pytest.raises(InvalidWebhookError):
            await adapter.parse_webhook(WebhookRequest(method="POST", path="/", body=body))


async def test_system_messages_come_from_a_system_profile(adapter: InboxAdapter, service: InboxService) -> None:
    session_id = await adapter.open_session(_open({"ruleTags": ["nobody-has-this"]}))
    rows = await service.store.fetch_all("SELECT event_id, body FROM outbox WHERE session_id = ?", (session_id,))
    request = await signed_request(service, rows[0]["event_id"], rows[0]["body"], int(service.clock()))
    (event,) = (await adapter.parse_webhook(request)).events
    assert isinstance(event, AgentMessage)
    assert event.agent.external_user_id == "inbox-system" and event.agent.name == "Support"


def test_options_errors_name_the_field() -> None:
    with pytest.raises(AdapterConfigError, match=r"adapter_options\.inbox\.redaction"):
        parse_options({"redaction": '["no-such-preset"]'})
    with pytest.raises(AdapterConfigError, match=r"templates"):
        parse_options({"templates": '[{"shortcut": "has space", "text": "x"}]'})
    assert parse_options({"labels": "a, b"}).labels == ["a", "b"]


async def test_adapter_without_the_service_is_unavailable(tmp_path: Path, coordinator: Coordinator) -> None:
    async with httpx.AsyncClient() as http:
        env = AdapterEnvironment(http=http, data_dir=tmp_path, coordinator=coordinator)
        adapter = InboxAdapter(InboxAdapter.parse_config({}), AdapterContext(INSTALLATION, MemoryState(), env))
        with pytest.raises(UnavailableError):
            await adapter.subscribe(WEBHOOK_URL)


@respx.mock
async def test_lifespan_runs_the_workers_and_delivers(tmp_path: Path, coordinator: Coordinator) -> None:
    delivered: asyncio.Queue[httpx.Request] = asyncio.Queue()

    def record(request: httpx.Request) -> httpx.Response:
        delivered.put_nowait(request)
        return httpx.Response(200)

    respx.post(WEBHOOK_URL).mock(side_effect=record)
    options = {"admin_email": "boss@example.com", "admin_password": "s3cret-pass", "timeout_poll_seconds": 0.05}
    async with httpx.AsyncClient() as http:
        env = AdapterEnvironment(http=http, data_dir=tmp_path, coordinator=coordinator, options=options)
        async with InboxAdapter.lifespan(env) as backend:
            assert isinstance(backend, InboxService)
            assert (tmp_path / "inbox.sqlite3").exists()
            assert await backend.agents.find("boss@example.com") is not None
            adapter = InboxAdapter(
                InboxAdapter.parse_config({}), AdapterContext(INSTALLATION, MemoryState(), env, backend)
            )
            await adapter.subscribe(WEBHOOK_URL)
            session_id = await adapter.open_session(_open({"ruleTags": ["nobody"]}))
            await adapter.link_session(session_id, "conv_1")
            bodies = [json.loads((await asyncio.wait_for(delivered.get(), 10)).content) for _ in range(2)]
    assert [b["type"] for b in bodies] == ["agent_message", "session_closed"]
    assert bodies[1]["reason"] == "NO_AGENTS"


async def test_find_message_answers_whether_a_botpress_message_was_stored(adapter: InboxAdapter) -> None:
    # What settles a pending journal entry after a crash: the inbox's own store says whether the send happened.
    session_id = await adapter.open_session(_open())
    request = OutboundMessage(
        external_session_id=session_id, author_external_id=None, message=HitlText(text="hi"), bp_message_id="bpmsg_1"
    )
    assert await adapter.find_message(request) is None
    message_id = await adapter.send_message(request)
    assert await adapter.find_message(request) == message_id
    assert await adapter.send_message(request) == message_id  # a resend stores nothing new
    elsewhere = request.model_copy(update={"external_session_id": await adapter.open_session(_open(key="key-2"))})
    assert await adapter.find_message(elsewhere) is None


async def test_lifespan_on_postgresql_keeps_the_inbox_in_the_shared_database(tmp_path: Path, pg_url: SecretStr) -> None:
    database = await PostgresDatabase.open(pg_url)
    coordinator = await PostgresCoordinator.open(database)
    try:
        async with httpx.AsyncClient() as http:
            env = AdapterEnvironment(http=http, data_dir=tmp_path, coordinator=coordinator, database=database)
            async with InboxAdapter.lifespan(env) as backend:
                assert isinstance(backend, InboxService)
                assert backend.store.database is database and backend.coordinator is coordinator
        assert not (tmp_path / "inbox.sqlite3").exists()
        rows = await database.fetch_all("SELECT version FROM schema_versions WHERE component = 'inbox'")
        assert sorted(row["version"] for row in rows) == [1, 2, 3]  # and the shared database is still open
    finally:
        await coordinator.aclose()
        await database.aclose()
