"""The store survives restarts; the outbox delivers signed events, retries, keeps order and loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import respx

from external_adapters.inbox.intake import installation_key
from external_adapters.inbox.models import SessionState
from external_adapters.inbox.service import InboxService
from external_adapters.inbox.signing import EVENT_HEADER, check
from external_adapters.inbox.store import DATABASE_NAME, Store
from tests.contracts.lost_answers import lose_answers

from .conftest import PASSWORD, Clock, add_agent, make_options, open_session

Opener = Callable[..., Awaitable[InboxService]]
LEGACY_FILE = Path(__file__).parent / "data" / "inbox-v1.sqlite3"

HOOK = "http://hooks.test/wh_1"


async def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    assert await store.migrate() == []
    rows = await store.fetch_all("SELECT version FROM schema_versions WHERE component = 'inbox' ORDER BY version")
    assert [row["version"] for row in rows] == [1, 2, 3]
    await store.close()


async def test_an_inbox_made_before_the_shared_runner_opens_with_its_data(tmp_path: Path, clock: Clock) -> None:
    # data/inbox-v1.sqlite3 was written by the previous code (steps in schema_migrations, no outbox leases): only
    # the newer step runs, and everything in it is still there and still works.
    shutil.copy(LEGACY_FILE, tmp_path / DATABASE_NAME)
    service = await InboxService.open(tmp_path, make_options(admin_email=None), clock)
    try:
        versions = await service.store.fetch_all("SELECT version, name FROM schema_versions ORDER BY version")
        assert [(row["version"], row["name"]) for row in versions] == [
            (1, "initial schema"),
            (2, "outbox leases"),
            (3, "conversation: resolved by, delivery state, files"),
        ]
        alice = await service.agents.authenticate("alice@example.com", PASSWORD)
        assert alice is not None
        [session] = await service.queries.all_sessions()
        detail = await service.queries.detail(alice, session.id)
        assert [m["text"] for m in detail["messages"]] == ["hello", "You are now chatting with Alice.", "still there?"]
        assert [n["text"] for n in detail["notes"]] == ["VIP"]
        assert await service.intake.find_message(session.id, "bpmsg_1") == detail["messages"][-1]["id"]
        async with httpx.AsyncClient() as http:
            [pending] = await service.attach_outbox(http).pending()
        assert json.loads(pending["body"])["type"] == "agent_message" and pending["lease_until"] is None
    finally:
        await service.store.close()
    reopened = await Store.open(tmp_path)  # a second open adopts and applies nothing again
    assert await reopened.migrate() == []
    await reopened.close()


async def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction() as db:
                await db.execute("INSERT INTO contacts (id, created_at) VALUES ('con_1', 0)")
                raise RuntimeError("boom")
        assert await store.fetch_all("SELECT * FROM contacts") == []
    finally:
        await store.close()


async def test_a_failed_commit_rolls_back_and_the_next_write_succeeds(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        # A fault at COMMIT itself: a deferred foreign key is only checked there, and SQLite then keeps the
        # transaction open, as it does for SQLITE_BUSY.
        with pytest.raises(sqlite3.IntegrityError):
            async with store.transaction() as db:
                await db.execute("PRAGMA defer_foreign_keys=ON")
                await db.execute("INSERT INTO contacts (id, created_at) VALUES ('con_1', 0)")
                await db.execute("INSERT INTO notes VALUES ('note_1', 'con_1', 'agt_missing', 'x', 0)")
        async with store.transaction() as db:
            await db.execute("INSERT INTO contacts (id, created_at) VALUES ('con_2', 0)")
        assert [row["id"] for row in await store.fetch_all("SELECT id FROM contacts")] == ["con_2"]
    finally:
        await store.close()


async def test_everything_survives_a_restart(tmp_path: Path, opened: Opener) -> None:
    first = await opened(tmp_path)
    await first.intake.subscribe("bot_1", "intver_1", "wh_1", HOOK)
    alice = await add_agent(first, "alice")
    session_id = await open_session(first)
    await first.actions.claim(alice, session_id)
    await first.intake.add_user_message(session_id, "msg_1", "text", {"text": "still there?"})
    contact_id = (await first.queries.detail(alice, session_id))["contact"]["id"]
    await first.actions.add_note(alice, contact_id, "VIP")
    token = await first.agents.issue_token(alice.id)
    await first.store.close()

    second = await opened(tmp_path)
    detail = await second.queries.detail(alice, session_id)
    assert detail["session"]["state"] == SessionState.ASSIGNED.value
    assert [m["text"] for m in detail["messages"]][-1] == "still there?"
    assert [n["text"] for n in detail["notes"]] == ["VIP"]
    assert (await second.agents.from_token(token)) == alice
    installation = await second.intake.installation("bot_1", "intver_1")
    assert installation is not None and installation.webhook_url == HOOK
    assert len(await second.store.fetch_all("SELECT * FROM outbox WHERE delivered_at IS NULL")) == 2
    assert len(await second.agents.all()) == 2  # the admin was not created twice


@respx.mock
async def test_outbox_signs_retries_with_backoff_and_delivers(service: InboxService, clock: Clock) -> None:
    route = respx.post(HOOK).mock(side_effect=[httpx.Response(502), httpx.Response(503), httpx.Response(200)])
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.intake.link(session_id, "conv_1")
    await service.actions.claim(alice, session_id)
    async with httpx.AsyncClient() as http:
        outbox = service.attach_outbox(http)
        assert await outbox.deliver_due() == 0  # 502 is retried at once and gets 503
        row = (await outbox.pending())[0]
        assert row["attempts"] == 1 and row["next_attempt_at"] == clock.now + 1.0
        assert await outbox.deliver_due() == 0  # not due yet: nothing is sent
        assert route.call_count == 2
        clock.advance(1.0)
        assert await outbox.deliver_due() == 1
        respx.post(HOOK).mock(return_value=httpx.Response(200))
        assert await outbox.deliver_due() == 1  # the assignment message waited behind the assignment
    sent = respx.calls.last.request
    installation = await service.intake.installation("bot_1", "intver_1")
    assert installation is not None
    secret = installation.secret
    assert check(secret, dict(sent.headers), sent.content.decode(), clock.now, 300) is None
    assert json.loads(sent.content)["type"] == "agent_message"
    assert await outbox.pending() == []


@respx.mock
async def test_one_slow_delivery_does_not_hold_up_other_sessions(service: InboxService) -> None:
    # The receiver may hold a request a while (the integration waits for the HITL plugin to take a new session).
    second_arrived, received = asyncio.Event(), []

    async def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        if len(received) == 1:
            await asyncio.wait_for(second_arrived.wait(), timeout=5)  # sent one after the other: never set
        second_arrived.set()
        return httpx.Response(200)

    respx.post(HOOK).mock(side_effect=receive)
    for key, conversation in (("k1", "conv_1"), ("k2", "conv_2")):
        await service.intake.link(await open_session(service, key, ruleTags=["nobody"]), conversation)
    async with httpx.AsyncClient() as http:
        assert await service.attach_outbox(http).deliver_due() == 2  # each session's oldest event


@respx.mock
async def test_events_wait_for_the_link_and_for_a_webhook_url(service: InboxService, clock: Clock) -> None:
    route = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    async with httpx.AsyncClient() as http:
        outbox = service.attach_outbox(http)
        assert await outbox.deliver_due() == 0 and route.call_count == 0
        await service.intake.unsubscribe("bot_1", "intver_1")
        await service.intake.link(session_id, "conv_1")
        assert await outbox.deliver_due() == 0
        assert (await outbox.pending())[0]["last_error"].startswith("installation has no webhook URL")
        await service.intake.subscribe("bot_1", "intver_1", "wh_1", HOOK)
        clock.advance(3600)
        assert await outbox.deliver_due() == 1 and await outbox.deliver_due() == 1


@respx.mock
async def test_undelivered_events_are_sent_after_a_restart(tmp_path: Path, clock: Clock, opened: Opener) -> None:
    respx.post(HOOK).mock(return_value=httpx.Response(502))
    first = await opened(tmp_path)
    await first.intake.subscribe("bot_1", "intver_1", "wh_1", HOOK)
    session_id = await open_session(first, ruleTags=["nobody"])  # NO_AGENTS: message + close queued
    await first.intake.link(session_id, "conv_1")
    async with httpx.AsyncClient() as http:
        assert await first.attach_outbox(http).deliver_due() == 0
    await first.store.close()

    respx.post(HOOK).mock(return_value=httpx.Response(204))
    second = await opened(tmp_path)
    clock.advance(60)
    async with httpx.AsyncClient() as http:
        outbox = second.attach_outbox(http)
        assert await outbox.deliver_due() + await outbox.deliver_due() == 2
    bodies = [json.loads(c.request.content)["type"] for c in respx.calls][-2:]
    assert bodies == ["agent_message", "session_closed"]
    assert installation_key("bot_1", "intver_1") == "bot_1:intver_1"


async def test_a_delivery_whose_answer_was_lost_is_repeated_with_the_same_event_id(service: InboxService) -> None:
    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)  # the receiver applied it; then the answer is lost
        return httpx.Response(200)

    session_id = await open_session(service)
    await service.intake.link(session_id, "conv_1")
    await service.actions.claim(await add_agent(service, "alice"), session_id)
    with respx.mock(assert_all_called=False) as router:
        router.post(HOOK).mock(side_effect=receive)
        lose_answers(router).lose("POST", "/wh_1")
        async with httpx.AsyncClient() as http:
            assert await service.attach_outbox(http).deliver_due() == 1
    first, again = received
    assert first.headers[EVENT_HEADER] == again.headers[EVENT_HEADER] and first.content == again.content


async def test_the_worker_stops_when_cancelled_just_as_it_is_woken(service: InboxService) -> None:
    # A shutdown that cancels the worker while a write wakes it must stop it: the app's cleanup awaits this task.
    async with httpx.AsyncClient() as http:
        outbox = service.attach_outbox(http)
        worker = asyncio.create_task(outbox.run(idle_seconds=30))
        await asyncio.sleep(0.05)  # the worker now waits for a wake-up
        outbox.wake()
        worker.cancel()
        done, _ = await asyncio.wait({worker}, timeout=2)
        assert done == {worker} and worker.cancelled()


async def test_a_backlog_of_one_session_drains_without_waiting_a_poll_per_event(service: InboxService) -> None:
    # After a restart (or a Botpress outage) nothing new wakes the worker; each delivery makes the session's next
    # event due, and it must go at once, not one event per poll.
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.intake.link(session_id, "conv_1")
    await service.actions.claim(alice, session_id)  # the assignment, then the assignment message
    for text in ("one", "two", "three"):
        await service.actions.reply(alice, session_id, text)
    received: list[httpx.Request] = []
    all_received = asyncio.Event()

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        if len(received) == 5:
            all_received.set()
        return httpx.Response(200)

    with respx.mock() as router:
        router.post(HOOK).mock(side_effect=receive)
        async with httpx.AsyncClient() as http:
            worker = asyncio.create_task(service.attach_outbox(http).run(idle_seconds=3600))
            try:
                async with asyncio.timeout(10):  # far below the poll: only passing again at once gets there
                    await all_received.wait()
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
    assert [json.loads(r.content)["type"] for r in received][:2] == ["agent_assigned", "agent_message"]
