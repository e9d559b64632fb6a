"""The Zendesk adapter exactly once across workers and crashes.

A crash is :class:`Crash` raised where the process would die: after the fake committed a request (the answer never
arrives and nothing after it runs) or before (the request never left). A restart is a new :class:`ZendeskRuntime`
and adapter on the same coordinator (the journal survives the process); two workers are two runtimes whose
coordinators share one backend (two connections to one PostgreSQL, or, embedded, the process's one coordinator).
The core's side of ``message_created`` is :func:`deliver_once`, as docs/adapters.md describes it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from typing import Any

import httpx
import pytest

from bp_modules.hitl import parse_hitl_payload
from coordination import Coordinator, JournalState
from external_adapters import EndUser, ExternalUserRequest, OpenSessionRequest, OutboundMessage, Transcript
from external_adapters.errors import ExternalRequestError
from external_adapters.zendesk import ZendeskAdapter, ZendeskRuntime, guards
from external_adapters.zendesk.subscription import idempotency_tag
from tests.adapter_kit import MemoryState, fixed_dns
from tests.contracts.lost_answers import LostAnswers, lose_answers
from tests.contracts.zendesk import ZendeskMockRouter

from .conftest import WEBHOOK_URL, Built
from .fake_zendesk import FakeZendesk

TICKET = r"^/api/v2/tickets/\d+(\.json)?$"


class Crash(Exception):
    """The process dies here: the test stops using its runtime."""


def crash(request: httpx.Request) -> Exception:
    return Crash(f"killed during {request.method} {request.url.path}")


async def deliver_once(coordinator: Coordinator, adapter: ZendeskAdapter, request: OutboundMessage) -> str:
    """The core's ``message_created``: journal the intent, settle a pending one by asking Zendesk, send, record."""
    key = f"msg:bot_01JTEST:{request.bp_message_id}"
    async with coordinator.lock(key):
        entry = await coordinator.intent(key)
        if entry.state is JournalState.DONE and entry.external_id:
            return entry.external_id
        found = await adapter.find_message(request) if entry.state is JournalState.PENDING else None
        external_id = found or await adapter.send_message(request)
        await coordinator.done(key, external_id)
        return external_id


def _text(ticket_id: str, jane: str, text: str, bp_message_id: str) -> OutboundMessage:
    message = parse_hitl_payload("text", {"text": text})
    return OutboundMessage(
        external_session_id=ticket_id, author_external_id=jane, message=message, bp_message_id=bp_message_id
    )


def _open_request(jane: str, key: str = "start-1") -> OpenSessionRequest[Any]:
    return OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_01", external_user_id=jane, name="Jane"),
        title="Need help",
        options=ZendeskAdapter.parse_session_options({}),
        transcript=Transcript(text="", markdown="", html=""),
        idempotency_key=key,
    )


async def _ticket(built: Built) -> tuple[str, str]:
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    return await built.adapter.open_session(_open_request(jane)), jane


def _restart(build: Any, built: Built, **kwargs: Any) -> Built:
    """The same installation in a new process: a new runtime (outbox, clocks), the same Botpress state."""
    restarted: Built = build(state=built.state, runtime=ZendeskRuntime(resolve=fixed_dns), **kwargs)
    return restarted


def _puts(router: ZendeskMockRouter, ticket_id: str) -> int:
    path = f"/api/v2/tickets/{ticket_id}"
    return sum(1 for call in router.calls if call.request.method == "PUT" and call.request.url.path == path)


def _bodies(fake: FakeZendesk, ticket_id: str) -> list[str]:
    return [comment["body"] for comment in fake.tickets[int(ticket_id)].comments[1:]]


@pytest.fixture
def lost(zendesk_api: ZendeskMockRouter, fake_zendesk: FakeZendesk) -> LostAnswers:
    return lose_answers(zendesk_api)


@pytest.fixture
def round_trips(zendesk_api: ZendeskMockRouter, fake_zendesk: FakeZendesk) -> None:
    """Each Zendesk answer takes a few turns of the event loop, as a real round trip does.

    respx alone answers without ever suspending, so one worker's whole operation would run before the other's
    began; with round trips the two interleave between their requests, as two processes do.
    """
    for route in zendesk_api.routes:
        original = route.side_effect
        assert callable(original)

        async def answer(request: httpx.Request, _original: Any = original, **params: Any) -> Any:
            for _ in range(3):
                await asyncio.sleep(0)
            answered = _original(request, **params)
            return await answered if inspect.isawaitable(answered) else answered

        route.side_effect = answer


# --- one process, then a restart --------------------------------------------------------------------------------


async def test_find_message_finds_a_comment_whose_answer_was_lost(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers
) -> None:
    built: Built = build()
    ticket_id, jane = await _ticket(built)
    lost.lose("PUT", TICKET, error=crash)
    message = _text(ticket_id, jane, "did it go?", "msg_lost")

    with pytest.raises(Crash):
        await built.adapter.send_message(message)

    posted = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert posted["body"] == "did it go?"
    assert await built.adapter.find_message(message) == str(posted["id"])


async def test_a_restart_between_posting_and_acking_posts_nothing_on_the_resend(
    build: Any, coordinator: Coordinator, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    ticket_id, jane = await _ticket(built)
    message = _text(ticket_id, jane, "exactly once", "msg_1")
    lost.lose("PUT", TICKET, error=crash)
    with pytest.raises(Crash):
        await deliver_once(coordinator, built.adapter, message)

    restarted = _restart(build, built)
    ack = await deliver_once(coordinator, restarted.adapter, message)
    again = await deliver_once(coordinator, restarted.adapter, message)

    assert _bodies(fake_zendesk, ticket_id) == ["exactly once"] and _puts(zendesk_api, ticket_id) == 1
    assert ack == again == str(fake_zendesk.tickets[int(ticket_id)].comments[-1]["id"])


async def test_a_crash_before_the_post_left_is_sent_on_the_resend(
    build: Any, coordinator: Coordinator, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    ticket_id, jane = await _ticket(built)
    message = _text(ticket_id, jane, "late but there", "msg_1")
    fake_zendesk.fail_next.append(Crash("killed before the update reached Zendesk"))
    with pytest.raises(Crash):
        await deliver_once(coordinator, built.adapter, message)
    assert _bodies(fake_zendesk, ticket_id) == []

    await deliver_once(coordinator, _restart(build, built).adapter, message)

    assert _bodies(fake_zendesk, ticket_id) == ["late but there"] and _puts(zendesk_api, ticket_id) == 2


async def test_a_crash_between_the_ticket_create_and_its_record_opens_no_second_ticket(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    lost.lose("POST", r"^/api/v2/tickets(\.json)?$", error=crash)
    with pytest.raises(Crash):
        await built.adapter.open_session(_open_request(jane))

    ticket_id = await _restart(build, built).adapter.open_session(_open_request(jane))

    assert list(fake_zendesk.tickets) == [int(ticket_id)]


async def test_a_retry_after_the_link_finds_its_ticket_while_the_search_lags(
    build: Any, fake_zendesk: FakeZendesk
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await built.adapter.open_session(_open_request(jane))
    await built.adapter.link_session(ticket_id, "conv_01")  # the external_id no longer names the key
    lagging = httpx.Response(200, json={"results": [], "count": 0})
    fake_zendesk._search = lambda request: lagging  # type: ignore[method-assign]  # the index has not caught up

    again = await _restart(build, built).adapter.open_session(_open_request(jane))

    assert again == ticket_id and list(fake_zendesk.tickets) == [int(ticket_id)]


async def test_a_refused_ticket_leaves_no_pending_journal_entry(
    build: Any, coordinator: Coordinator, fake_zendesk: FakeZendesk
) -> None:
    built: Built = build()
    jane = await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    refusal = {"error": "RecordInvalid", "description": "Record validation errors"}
    fake_zendesk.fail_next += [
        httpx.Response(200, json={"tickets": [], "count": 0}),  # the lookups find nothing
        httpx.Response(200, json={"results": [], "count": 0}),
        httpx.Response(422, json=refusal),
    ]

    with pytest.raises(ExternalRequestError):
        await built.adapter.open_session(_open_request(jane))

    key = guards.open_key(idempotency_tag("start-1"))
    assert (await coordinator.intent(key)).state is JournalState.NEW and fake_zendesk.tickets == {}


# --- two workers --------------------------------------------------------------------------------------------------


def _two(build: Any, workers: tuple[Coordinator, Coordinator], **runtime: Any) -> tuple[Built, Built]:
    state = MemoryState()
    a: Built = build(state=state, coordinator=workers[0], runtime=ZendeskRuntime(resolve=fixed_dns, **runtime))
    b: Built = build(state=state, coordinator=workers[1], runtime=ZendeskRuntime(resolve=fixed_dns))
    return a, b


async def test_two_workers_sending_to_one_ticket_never_overlap_and_post_each_message_once(
    build: Any, workers: tuple[Coordinator, Coordinator], fake_zendesk: FakeZendesk, round_trips: None
) -> None:
    a, b = _two(build, workers)
    ticket_id, jane = await _ticket(a)
    in_flight, peak = Counter[int](), Counter[int]()
    update = fake_zendesk._update_ticket

    async def slow_update(request: httpx.Request, ticket_id: str) -> httpx.Response:
        in_flight[int(ticket_id)] += 1
        peak[int(ticket_id)] = max(peak[int(ticket_id)], in_flight[int(ticket_id)])
        for _ in range(5):  # Zendesk takes its time: the other worker could post meanwhile
            await asyncio.sleep(0)
        in_flight[int(ticket_id)] -= 1
        return update(request, ticket_id=ticket_id)

    fake_zendesk._update_ticket = slow_update  # type: ignore[assignment,method-assign]
    sends = [
        w.adapter.send_message(_text(ticket_id, jane, f"{n}-{i}", f"msg_{n}_{i}"))
        for i in range(5)
        for n, w in (("a", a), ("b", b))
    ]

    await asyncio.gather(*sends)

    assert peak[int(ticket_id)] == 1
    posted = [part for body in _bodies(fake_zendesk, ticket_id) for part in body.split("\n\n")]
    assert sorted(posted) == sorted(f"{n}-{i}" for n in "ab" for i in range(5))
    for worker in "ab":  # each worker's messages in the order they came
        assert [p for p in posted if p.startswith(worker)] == [f"{worker}-{i}" for i in range(5)]


async def test_a_worker_waits_for_the_ticket_lock_so_order_is_kept(
    build: Any, workers: tuple[Coordinator, Coordinator], fake_zendesk: FakeZendesk
) -> None:
    second: list[asyncio.Task[str]] = []

    async def rate_limited(seconds: float) -> None:
        # While worker A waits out the 429, B gets a later message: were B not held back, it would post it now.
        second.append(asyncio.create_task(b.adapter.send_message(_text(ticket_id, jane, "second", "msg_2"))))
        await asyncio.wait(second, timeout=0.5)

    a, b = _two(build, workers, sleep=rate_limited)
    ticket_id, jane = await _ticket(b)
    fake_zendesk.fail_next.append(httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "TooMany"}))

    await a.adapter.send_message(_text(ticket_id, jane, "first", "msg_1"))
    await second[0]

    assert _bodies(fake_zendesk, ticket_id) == ["first", "second"]


async def test_two_workers_opening_one_key_at_once_open_one_ticket(
    build: Any, workers: tuple[Coordinator, Coordinator], fake_zendesk: FakeZendesk, round_trips: None
) -> None:
    a, b = _two(build, workers)
    await a.adapter.subscribe(WEBHOOK_URL)
    jane = await a.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))

    opened = await asyncio.gather(*(w.adapter.open_session(_open_request(jane)) for w in (a, b)))

    assert opened[0] == opened[1] and list(fake_zendesk.tickets) == [int(opened[0])]


async def test_two_workers_registering_at_once_leave_one_webhook_and_three_triggers(
    build: Any, workers: tuple[Coordinator, Coordinator], fake_zendesk: FakeZendesk, round_trips: None
) -> None:
    a, b = _two(build, workers)

    await asyncio.gather(a.adapter.subscribe(WEBHOOK_URL), b.adapter.subscribe(WEBHOOK_URL))

    (webhook_id,) = fake_zendesk.webhooks
    assert len(fake_zendesk.triggers) == 3
    stored: dict[str, Any] = a.state.items["zendeskSubscription"]
    assert stored["webhook_id"] == webhook_id and sorted(stored["trigger_ids"]) == sorted(fake_zendesk.triggers)


async def test_a_burst_wider_than_the_lock_pool_sent_under_the_cores_message_locks_is_delivered(
    build: Any,
    workers: tuple[Coordinator, Coordinator],
    fake_zendesk: FakeZendesk,
    round_trips: None,
) -> None:
    a, _ = _two(build, workers)
    ticket_id, jane = await _ticket(a)

    async def core_send(i: int) -> str:
        async with workers[0].lock(f"msg:bot_01JTEST:msg_{i}"):  # what the core holds around send_message
            return await a.adapter.send_message(_text(ticket_id, jane, f"m{i}", f"msg_{i}"))

    async with asyncio.timeout(10):  # a bound on a hang, not a measure: the burst takes well under a second
        await asyncio.gather(*(core_send(i) for i in range(24)))

    posted = [part for body in _bodies(fake_zendesk, ticket_id) for part in body.split("\n\n")]
    assert sorted(posted) == sorted(f"m{i}" for i in range(24))
