"""kill -9 in the middle of a burst, with Zendesk (the fake server): nothing lost, nothing twice.

On both backends: the embedded store with its one worker, and PostgreSQL with three workers behind the proxy. A
burst of 50 end-user messages and 50 agent replies runs; a worker is killed with SIGKILL in the middle of it and
started again; then, as the Botpress runtime and Zendesk do, every request that got no 2xx is sent again until it
does. Each message carries a unique token: each must arrive exactly once (a comment in Zendesk, a message in
Botpress).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .cluster import (
    Cluster,
    Runtime,
    Worker,
    cluster,
    hitl_text_body,
    new_bp_message_id,
    new_token,
    round_robin,
)
from .conftest import Server, eventually
from .test_workers_zendesk import Desk, open_handoff, zendesk_runtime

pytestmark = pytest.mark.e2e
BURST = 50
CONCURRENCY = 6
KILL_AFTER = 15
RESEND_ROUNDS = 20
HELD_WRITES = [("PUT", r"^/v1/chat/messages/[^/]+$"), ("POST", r"^/v1/chat/messages(/get-or-create)?$")]
HELD_BEFORE_KILL = 2


class Burst:
    """Requests sent with bounded concurrency, each remembered with whether it got a 2xx."""

    def __init__(self) -> None:
        self.done = 0
        self.midway = asyncio.Event()
        self.unanswered: list[Callable[[], Awaitable[bool]]] = []
        self._gate = asyncio.Semaphore(CONCURRENCY)

    async def send(self, attempt: Callable[[], Awaitable[bool]]) -> None:
        async with self._gate:
            try:
                ok = await attempt()
            except httpx.HTTPError:
                ok = False
        if not ok:
            self.unanswered.append(attempt)
        self.done += 1
        if self.done >= KILL_AFTER:
            self.midway.set()

    async def resend_until_answered(self) -> None:
        """What the runtime (and Zendesk) do: send again whatever got no 2xx, until it does."""
        for _ in range(RESEND_ROUNDS):
            pending, self.unanswered = self.unanswered, []
            for attempt in pending:
                await self.send(attempt)
            if not self.unanswered:
                return
            await asyncio.sleep(0.2)
        pytest.fail(f"{len(self.unanswered)} requests still got no 2xx after {RESEND_ROUNDS} rounds", pytrace=False)


async def test_a_worker_killed_mid_burst_loses_and_repeats_nothing(
    backend: tuple[int, str | None], tmp_path: Path, http: httpx.AsyncClient, zendesk_server: Server
) -> None:
    count, database_url = backend
    with cluster(tmp_path, count=count, adapter="zendesk", database_url=database_url) as running:
        async with round_robin(running.workers) as proxy:
            runtime = zendesk_runtime(http, running, zendesk_server.url)
            bp_user_id, bp_conversation_id, ticket_id = await open_handoff(runtime, proxy.url)
            desk = Desk(http, zendesk_server.url)
            burst = Burst()
            user_tokens, agent_tokens = (
                [new_token("user") for _ in range(BURST)],
                [new_token("agent") for _ in range(BURST)],
            )

            def user_message(token: str) -> Callable[[], Awaitable[bool]]:
                body = hitl_text_body(bp_conversation_id, ticket_id, bp_user_id, new_bp_message_id(), token)

                async def attempt() -> bool:
                    return (await runtime.seed_and_message(proxy.url, body)).status_code == 200

                return attempt

            sends = [burst.send(user_message(token)) for token in user_tokens]
            sends += [burst.send(_agent_reply(desk, int(ticket_id), token)) for token in agent_tokens]
            interleaved = [s for pair in zip(sends[:BURST], sends[BURST:], strict=True) for s in pair]
            killing = asyncio.create_task(_kill_and_restart_midway(http, running, running.workers[0], burst))
            await asyncio.gather(*interleaved)
            assert await killing < 2 * BURST, "the worker was killed after the burst, not in its middle"
            await burst.resend_until_answered()

            await _each_exactly_once(runtime, desk, user_tokens, agent_tokens, running)


def _agent_reply(desk: Desk, ticket_id: int, token: str) -> Callable[[], Awaitable[bool]]:
    """The agent comments once; a resend is Zendesk retrying the same delivery (never a new comment)."""
    delivery_ids: list[int] = []

    async def attempt() -> bool:
        if not delivery_ids:
            fired = await desk.act("agent_comment", ticket_id=ticket_id, html=f"<p>{token}</p>")
        else:
            fired = [await _redelivered(desk, delivery_ids[0])]
        delivery_ids[:] = [fired[0]["id"]]
        return bool(fired[0]["answer"]["status"] == 200)

    return attempt


async def _redelivered(desk: Desk, delivery_id: int) -> dict[str, Any]:
    (delivery,) = await desk.act("redeliver", delivery=delivery_id)
    return delivery


async def _kill_and_restart_midway(http: httpx.AsyncClient, running: Cluster, victim: Worker, burst: Burst) -> int:
    """kill -9 ``victim`` once :data:`KILL_AFTER` requests are done, at the worst moment: while Botpress holds
    writes it received and has not answered (acks of posted comments, agent messages); start it again. How many
    requests were done then."""
    await burst.midway.wait()
    for method, path in HELD_WRITES:
        await http.post(f"{running.botpress_url}/_test/hold_api", json={"method": method, "path": path})

    async def held() -> bool:
        return bool((await http.get(f"{running.botpress_url}/_test/held")).json()["held"] >= HELD_BEFORE_KILL)

    try:
        await eventually(held, "writes to reach Botpress while it holds them", within_seconds=10)
        done_at_kill = burst.done
        victim.kill()
    finally:
        (await http.post(f"{running.botpress_url}/_test/release")).raise_for_status()
    await asyncio.to_thread(running.restart, victim)
    return done_at_kill


async def _each_exactly_once(
    runtime: Runtime, desk: Desk, user_tokens: list[str], agent_tokens: list[str], running: Cluster
) -> None:
    tickets = (await desk.state())["tickets"].values()
    comments = [c.get("body") or "" for t in tickets for c in t["comments"]]
    texts = [m["payload"].get("text") or "" for m in (await runtime.state())["messages"]]
    user_counts = {token: sum(token in c for c in comments) for token in user_tokens}
    agent_counts = {token: sum(token in t for t in texts) for token in agent_tokens}
    lost = [t for t, n in {**user_counts, **agent_counts}.items() if n == 0]
    twice = {t: n for t, n in {**user_counts, **agent_counts}.items() if n > 1}
    assert (lost, twice) == ([], {}), f"{len(lost)} lost, {len(twice)} repeated: {lost[:5]} {twice}"
