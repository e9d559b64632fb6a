"""Routing: fan-out, targeted requests, claim statuses, outcomes and claim timeouts."""

from __future__ import annotations

import pytest

from external_adapters.inbox.errors import Conflict
from external_adapters.inbox.models import Outcome, SessionState
from external_adapters.inbox.service import InboxService

from .conftest import Clock, add_agent, events, open_session


async def _state(service: InboxService, session_id: str) -> tuple[SessionState, str | None]:
    session = (await service.queries.all_sessions())[0]
    assert session.id == session_id
    return session.state, session.close_reason


async def _admin_offline(service: InboxService) -> None:
    admin = await service.agents.find("admin@example.com")
    assert admin is not None
    await service.agents.set_status(admin.id, "offline")


async def test_fan_out_offers_the_session_to_every_eligible_agent(service: InboxService) -> None:
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob", status="busy")
    async with service.hub.subscribe(alice.id) as alice_feed, service.hub.subscribe(bob.id) as bob_feed:
        session_id = await open_session(service)
        alice_types = [alice_feed.queue.get_nowait().type for _ in range(alice_feed.queue.qsize())]
        bob_types = [bob_feed.queue.get_nowait().type for _ in range(bob_feed.queue.qsize())]
    assert "offer" in alice_types and "handoff" in alice_types
    assert "offer" not in bob_types and "handoff" in bob_types  # busy: sees it in the queue, is not asked
    assert await _state(service, session_id) == (SessionState.NEEDS_ACTION, None)


async def test_claim_assigns_and_tells_botpress(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    session = await service.actions.claim(alice, session_id)
    assert session.state is SessionState.ASSIGNED and session.assigned_agent_id == alice.id
    queued = await events(service, session_id)
    assert [e["type"] for e in queued] == ["agent_assigned", "agent_message"]
    assert queued[0]["agent"] == {"id": alice.id, "name": "Alice", "email": "alice@example.com"}
    assert queued[1]["message"]["payload"]["text"] == "You are now chatting with Alice."
    with pytest.raises(Conflict):
        await service.actions.claim(alice, session_id)


async def test_assignment_message_follows_the_session_language(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service, language="fr")
    await service.actions.claim(alice, session_id)
    assert (await events(service, session_id))[1]["message"]["payload"]["text"] == "Vous parlez avec Alice."


async def test_no_agents_when_nobody_may_see_the_session(service: InboxService) -> None:
    await add_agent(service, "alice", groups=("sales",))
    session_id = await open_session(service, ruleTags=["billing"])
    assert await _state(service, session_id) == (SessionState.CLOSED, Outcome.NO_AGENTS.value)
    queued = await events(service, session_id)
    assert [e["type"] for e in queued] == ["agent_message", "session_closed"]
    assert queued[0]["message"]["payload"]["text"] == "Sorry, no agent can take this conversation."
    assert queued[1]["reason"] == "NO_AGENTS"


async def test_not_available_when_no_visible_agent_has_a_permitted_status(service: InboxService) -> None:
    await _admin_offline(service)
    await add_agent(service, "alice", status="busy")
    session_id = await open_session(service)
    assert await _state(service, session_id) == (SessionState.CLOSED, "NOT_AVAILABLE")


async def test_busy_agents_may_claim_when_the_card_allows_it(service: InboxService) -> None:
    await _admin_offline(service)
    alice = await add_agent(service, "alice", status="busy")
    session_id = await open_session(service, claimStatuses=["available", "busy"])
    assert (await service.actions.claim(alice, session_id)).state is SessionState.ASSIGNED


async def test_targeted_request_goes_to_one_agent_only(service: InboxService) -> None:
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob")
    session_id = await open_session(service, targetAgent="bob@example.com")
    with pytest.raises(Conflict, match="another agent"):
        await service.actions.claim(alice, session_id)
    assert (await service.actions.claim(bob, session_id)).assigned_agent_id == bob.id


async def test_targeted_agent_rejecting_ends_the_session(service: InboxService) -> None:
    bob = await add_agent(service, "bob")
    session_id = await open_session(service, targetAgent=bob.id)
    await service.actions.reject(bob, session_id)
    assert await _state(service, session_id) == (SessionState.CLOSED, "REJECTED")
    assert (await events(service, session_id))[0]["message"]["payload"]["text"].startswith("Sorry, the agent")


async def test_unknown_or_offline_target(service: InboxService) -> None:
    await add_agent(service, "bob", status="offline")
    missing = await open_session(service, "k1", targetAgent="nobody@example.com")
    offline = await open_session(service, "k2", targetAgent="bob@example.com")
    reasons = {s.id: s.close_reason for s in await service.queries.all_sessions()}
    assert reasons == {missing: "NO_AGENTS", offline: "NOT_AVAILABLE"}


async def test_fan_out_ends_rejected_only_when_every_candidate_declined(service: InboxService) -> None:
    await _admin_offline(service)
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob")
    session_id = await open_session(service)
    await service.actions.reject(alice, session_id)
    assert (await _state(service, session_id))[0] is SessionState.NEEDS_ACTION
    admin = await service.agents.find("admin@example.com")
    assert admin is not None
    await service.actions.reject(admin, session_id)
    await service.actions.reject(bob, session_id)
    assert await _state(service, session_id) == (SessionState.CLOSED, "REJECTED")


async def test_claim_window_times_out(service: InboxService, clock: Clock) -> None:
    await add_agent(service, "alice")
    session_id = await open_session(service, claimTimeoutSeconds=60)
    clock.advance(59)
    assert await service.actions.expire_claims() == []
    clock.advance(2)
    assert await service.actions.expire_claims() == [session_id]
    assert await _state(service, session_id) == (SessionState.CLOSED, "TIMEOUT")
    assert [e["type"] for e in await events(service, session_id)] == ["agent_message", "session_closed"]
    assert await service.actions.expire_claims() == []


async def test_claimed_sessions_do_not_time_out(service: InboxService, clock: Clock) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service, claimTimeoutSeconds=10)
    await service.actions.claim(alice, session_id)
    clock.advance(3600)
    assert await service.actions.expire_claims() == []


async def test_open_session_is_idempotent_and_routes_once(service: InboxService) -> None:
    await add_agent(service, "alice")
    first = await open_session(service, "same")
    assert await open_session(service, "same") == first
    assert len(await service.queries.all_sessions()) == 1
