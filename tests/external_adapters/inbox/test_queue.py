"""The queue agents triage: unread counts and read marks, wait, last activity, state in words, sort, search, counts.

Every test runs on each backend (``service``: embedded SQLite, then PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from external_adapters.inbox.models import Agent, QueueFilter, QueueItem, Session, SessionState
from external_adapters.inbox.queue import state_text
from external_adapters.inbox.service import InboxService

from .conftest import Clock, add_agent, open_session

_counter = iter(range(1_000_000))


async def _admin(service: InboxService) -> Agent:
    agent = await service.agents.find("admin@example.com")
    assert agent is not None
    return agent


async def _say(service: InboxService, clock: Clock, session_id: str, text: str) -> None:
    clock.advance(1)
    await service.intake.add_user_message(session_id, f"bpmsg_{next(_counter)}", "text", {"text": text})


async def _item(service: InboxService, agent: Agent, session_id: str, **flt: Any) -> QueueItem:
    items = await service.queries.queue(agent, QueueFilter(**flt))
    return next(i for i in items if i.session.id == session_id)


async def test_unread_counts_end_user_messages_after_the_agents_read_mark(service: InboxService, clock: Clock) -> None:
    admin, alice = await _admin(service), await add_agent(service, "alice")
    session_id = await open_session(service, transcript=(("user", "text", {"text": "earlier"}),))
    for text in ("hello", "anyone?"):
        await _say(service, clock, session_id, text)
    assert (await _item(service, admin, session_id)).unread == 2  # transcript lines are not unread
    assert await service.queue.mark_read(admin, session_id) == {"unread": 0}
    assert (await _item(service, admin, session_id)).unread == 0
    await _say(service, clock, session_id, "still there?")
    assert (await _item(service, admin, session_id)).unread == 1
    assert (await _item(service, alice, session_id)).unread == 3  # a mark per agent


async def test_marking_read_twice_after_a_lost_answer_changes_nothing(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    session_id = await open_session(service)
    await _say(service, clock, session_id, "hello")
    await service.queue.mark_read(admin, session_id)  # committed; say its answer was lost, and the console repeats
    assert await service.queue.mark_read(admin, session_id) == {"unread": 0}
    rows = await service.store.fetch_all("SELECT read_upto FROM read_marks WHERE session_id = ?", (session_id,))
    assert [r["read_upto"] for r in rows] == [clock.now]


async def test_the_read_mark_only_moves_forward(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    session_id = await open_session(service)
    await _say(service, clock, session_id, "hello")
    await service.queue.mark_read(admin, session_id)
    mark = clock.now
    # A request that read an older state lands late: its upsert must leave the newer mark.
    await service.store.database.execute(
        "UPDATE messages SET created_at = created_at - 100 WHERE session_id = ?", (session_id,)
    )
    await service.queue.mark_read(admin, session_id)
    rows = await service.store.fetch_all("SELECT read_upto FROM read_marks WHERE session_id = ?", (session_id,))
    assert [r["read_upto"] for r in rows] == [mark]


async def test_the_read_event_goes_to_the_agents_own_feeds_only(service: InboxService) -> None:
    admin, alice = await _admin(service), await add_agent(service, "alice")
    session_id = await open_session(service)
    async with service.hub.subscribe(admin.id) as mine, service.hub.subscribe(alice.id) as theirs:
        while not mine.queue.empty():
            mine.queue.get_nowait()
        await service.queue.mark_read(admin, session_id)
        event = mine.queue.get_nowait()
        assert (event.type, event.data) == ("read", {"sessionId": session_id, "unread": 0})
        assert all(e.type != "read" for e in [theirs.queue.get_nowait() for _ in range(theirs.queue.qsize())])


async def test_waiting_since_follows_who_owes_an_answer(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    session_id = await open_session(service)
    opened_at = clock.now
    assert (await _item(service, admin, session_id)).waiting_since == opened_at
    clock.advance(5)
    await service.actions.claim(admin, session_id)
    assert (await _item(service, admin, session_id)).waiting_since is None  # the greeting is a system line
    await _say(service, clock, session_id, "first")
    first_at = clock.now
    await _say(service, clock, session_id, "second")
    item = await _item(service, admin, session_id)
    assert (item.waiting_since, item.last_activity, item.last_direction) == (first_at, clock.now, "user")
    clock.advance(1)
    await service.actions.reply(admin, session_id, "on it")
    item = await _item(service, admin, session_id)
    assert (item.waiting_since, item.last_direction, item.last_text) == (None, "agent", "on it")
    await service.actions.resolve(admin, session_id)
    assert (await _item(service, admin, session_id)).waiting_since is None


async def test_sort_by_last_activity_or_longest_waiting(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    old = await open_session(service, "k-old")
    clock.advance(10)
    new = await open_session(service, "k-new", email="bob@example.com")
    await _say(service, clock, old, "ping")  # the old session is now the most recently active
    by_activity = [i.session.id for i in await service.queries.queue(admin, QueueFilter())]
    by_wait = [i.session.id for i in await service.queries.queue(admin, QueueFilter(sort="waiting"))]
    assert (by_activity, by_wait) == ([old, new], [old, new])
    await service.actions.claim(admin, old)  # nobody waits on it any more: last
    by_wait = [i.session.id for i in await service.queries.queue(admin, QueueFilter(sort="waiting"))]
    assert by_wait == [new, old]


async def test_search_covers_what_was_said_but_not_system_lines(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    session_id = await open_session(service, transcript=(("user", "text", {"text": "Order 123_45"}),))
    await _say(service, clock, session_id, "My parcel is LOST")
    await service.actions.claim(admin, session_id)
    await service.actions.reply(admin, session_id, "Refund issued")

    async def found(needle: str) -> bool:
        return any(i.session.id == session_id for i in await service.queries.queue(admin, QueueFilter(search=needle)))

    assert [await found(n) for n in ("parcel is lost", "REFUND", "123_45", "jane", "order")] == [True] * 5
    assert [await found(n) for n in ("chatting with", "3_%", "nothing like it")] == [False] * 3


async def test_counts_over_the_sessions_the_agent_may_see(service: InboxService, clock: Clock) -> None:
    admin, alice = await _admin(service), await add_agent(service, "alice")
    vic = await add_agent(service, "vic", groups=("vip",))  # someone may take the vip session, so it stays open
    waiting = await open_session(service, "k-1")
    taken = await open_session(service, "k-2", email="bob@example.com")
    hidden = await open_session(service, "k-3", email="eve@example.com", ruleTags=["vip"])
    await service.actions.claim(admin, taken)
    for session_id in (waiting, taken, hidden):
        await _say(service, clock, session_id, "hi")
    assert await service.queue.counts(vic) == {"waiting": 2, "unread": 3}
    assert await service.queue.counts(alice) == {"waiting": 1, "unread": 2}  # no vip group: the vip one is hidden
    await service.actions.resolve(admin, taken)
    assert await service.queue.counts(vic) == {"waiting": 2, "unread": 2}  # closed sessions do not count


async def test_the_queue_is_four_statements_however_many_sessions(service: InboxService, clock: Clock) -> None:
    admin = await _admin(service)
    statements: list[str] = []
    read = service.store.read

    @asynccontextmanager
    async def counting_read() -> AsyncIterator[Any]:
        async with read() as db:
            real = db.fetch_all

            async def fetch_all(sql: str, params: Any = ()) -> Any:
                statements.append(sql)
                return await real(sql, params)

            db.fetch_all = fetch_all  # type: ignore[method-assign]
            try:
                yield db
            finally:  # SQLite hands out its one connection again: unwrap it
                db.fetch_all = real  # type: ignore[method-assign]

    service.store.read = counting_read  # type: ignore[method-assign]
    for n in range(12):
        session_id = await open_session(service, f"k-{n}", email=f"c{n}@example.com")
        await _say(service, clock, session_id, "hello")
        statements.clear()
        await service.queries.queue(admin, QueueFilter(search="hello"))
        assert len(statements) == 4, (
            statements
        )  # sessions (with their messages' figures), contacts, agents, their groups


def _session(state: SessionState, reason: str | None = None) -> Session:
    return Session(
        id="ses_1",
        installation_id="i",
        contact_id="c",
        bp_conversation_id=None,
        state=state,
        close_reason=reason,
        assigned_agent_id=None,
        target_agent_id=None,
        claim_statuses=["available"],
        claim_deadline=None,
        rule_tags=[],
        labels=[],
        title=None,
        description=None,
        language="en",
        paused=False,
        created_at=1.0,
        updated_at=2.0,
    )


@pytest.mark.parametrize(
    ("state", "reason", "assigned", "words"),
    [
        (SessionState.NEEDS_ACTION, None, None, "Waiting"),
        (SessionState.ASSIGNED, None, "Alice", "Assigned to Alice"),
        (SessionState.CLOSED, "resolved", "Alice", "Resolved by Alice"),
        (SessionState.CLOSED, "stopped by bot", "Alice", "Stopped by the bot"),
        (SessionState.CLOSED, "NOT_AVAILABLE", None, "No agent available"),
        (SessionState.CLOSED, "NO_AGENTS", None, "No agent online"),
        (SessionState.CLOSED, "REJECTED", None, "Rejected by every agent"),
        (SessionState.CLOSED, "TIMEOUT", None, "Nobody claimed it in time"),
    ],
)
def test_state_in_words(state: SessionState, reason: str | None, assigned: str | None, words: str) -> None:
    assert state_text(_session(state, reason), assigned) == words


def test_the_resolver_named_beats_the_assignee() -> None:
    assert state_text(_session(SessionState.CLOSED, "resolved"), "Alice", resolved_by="Bob") == "Resolved by Bob"


async def test_an_outcome_is_given_as_its_code(service: InboxService) -> None:
    admin = await _admin(service)
    session_id = await open_session(service, targetAgent="nobody@example.com")
    item = await _item(service, admin, session_id)
    assert (item.outcome, item.state_text, item.unclaimed) == ("NO_AGENTS", "No agent online", False)


async def test_the_queue_names_the_agent_who_resolved_not_the_one_assigned(service: InboxService) -> None:
    admin, alice = await _admin(service), await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    await service.actions.resolve(admin, session_id)  # an admin closes Alice's session
    assert (await _item(service, alice, session_id)).state_text == f"Resolved by {admin.name}"
