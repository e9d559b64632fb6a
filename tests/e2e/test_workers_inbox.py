"""Three ``hitl-bridge serve`` workers on one PostgreSQL, with the built-in inbox and its console.

Each worker is its own process, on its own port and with its own data folder: they share only the database (the
inbox's store, its outbox, its live events by ``LISTEN/NOTIFY``). Agents use the console of one worker each; the
Botpress runtime sends its operations to chosen workers, and the inbox's events reach Botpress through the fake
Botpress's webhook relay and the round-robin proxy.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from .cluster import Runtime, cluster, round_robin
from .conftest import eventually
from .inbox_console import ADMIN_EMAIL, INBOX_ENV, Admin, Agent, inbox_runtime, start_handoff

pytestmark = pytest.mark.e2e
LIVE_BOUND_SECONDS = 1.0


async def test_an_agent_on_one_worker_sees_a_handoff_from_another_and_of_two_claims_on_two_workers_one_wins(
    database_url: str, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    with cluster(tmp_path, count=3, adapter="inbox", database_url=database_url, settings=INBOX_ENV) as running:
        worker_a, worker_b, worker_c = running.workers
        async with round_robin(running.workers) as proxy:
            await Admin(http, worker_c.url).create_agent("bob@inbox.test", "Bob")
            alice = await Agent(http, worker_a.url, ADMIN_EMAIL).login()
            bob = await Agent(http, worker_c.url, "bob@inbox.test").login()
            runtime = inbox_runtime(http, running)
            async with alice.live() as feed:
                _, bp_conversation_id, session_id = await start_handoff(runtime, proxy.url, worker_b.url)
                # Bounded from startHitl's answer: the handoff was committed on worker B before it answered.
                await feed.until("handoff", session_id, within_seconds=LIVE_BOUND_SECONDS)

            claims = await asyncio.gather(alice.claim(session_id), bob.claim(session_id))

            assert sorted(c.status_code for c in claims) == [200, 409], [c.text for c in claims]
            winner = alice if claims[0].status_code == 200 else bob
            assert (await bob.session(session_id))["session"]["assigned_agent_id"] == winner.agent_id
            await eventually(
                lambda: _assignment_message_arrived(runtime, bp_conversation_id),
                "the assignment message in Botpress (it follows hitlAssigned)",
                within_seconds=20,
                diagnostics=running.logs,
            )
            events = [e["type"] for e in (await runtime.state())["events"]]
            assert events.count("hitlAssigned") == 1, events
            assert await runtime.violations() == []


async def _assignment_message_arrived(runtime: Runtime, bp_conversation_id: str) -> bool:
    messages = (await runtime.state())["messages"]
    return any(
        m["conversationId"] == bp_conversation_id and "now chatting with" in (m["payload"].get("text") or "")
        for m in messages
    )
