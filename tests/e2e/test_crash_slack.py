"""kill -9 with Slack (the fake server), at the moment that matters for ack-then-process: nothing lost, nothing twice.

On both backends: the embedded store with its one worker, and PostgreSQL with three workers behind the proxy. Two
handoffs are opened (two threads), then a burst of agent replies (each a signed Events API delivery the fake Slack
sends to the webhook URL, retried by it on a non-2xx or a timeout, as Slack does) and of end-user messages
(``message_created``, sent again by the test like the runtime until a 2xx). Midway the fake Botpress holds its
writes, so the Slack deliveries the workers acknowledged are in the work queue, leased and not applied; the worker
holding a lease is then killed with SIGKILL (its held writes are applied afterwards: committed, answers lost) and
started again; its items are taken again once their (5-second) lease has expired, by it or by another worker.
Every message carries a unique token: each agent token must be once in Botpress, each end-user token once in Slack.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from .cluster import Cluster, Runtime, Worker, cluster, hitl_text_body, new_bp_message_id, new_token, round_robin
from .conftest import Server, eventually
from .test_crash_zendesk import Burst
from .test_slack_sandbox import BOB, BOT_TOKEN, CHANNEL, SIGNING_SECRET, SlackAgents, slack_server

pytestmark = pytest.mark.e2e
__all__ = ["slack_server"]  # the fake Slack's fixture, imported to be used here by name
BURST = 24
HANDOFFS = 2
HELD_WRITES = [("PUT", r"^/v1/chat/messages/[^/]+$"), ("POST", r"^/v1/chat/messages(/get-or-create)?$")]
HELD_BEFORE_KILL = 2
LEASE_SECONDS = "5"  # the setting's least: the killed worker's items are taken again soon after
_LEASED = "SELECT owner FROM coordination_queue WHERE state = 'ready' AND owner IS NOT NULL AND lease_until > {now}"
_RETAKEN = "SELECT count(*) AS n FROM coordination_queue WHERE attempts > 1"
_QUEUED = "SELECT count(*) AS n FROM coordination_queue WHERE state = 'ready'"


@pytest.mark.parametrize("held_writes", ["applied", "dropped"])
async def test_a_worker_killed_holding_acknowledged_slack_deliveries_loses_and_repeats_nothing(
    backend: tuple[int, str | None], held_writes: str, tmp_path: Path, http: httpx.AsyncClient, slack_server: Server
) -> None:
    count, database_url = backend
    settings = {"HITL_BRIDGE_WORK_LEASE_SECONDS": LEASE_SECONDS}
    with cluster(tmp_path, count=count, adapter="slack", database_url=database_url, settings=settings) as running:
        async with round_robin(running.workers) as proxy:
            runtime = _slack_runtime(http, running, slack_server.url)
            agents = SlackAgents(http, slack_server.url)
            await runtime.relay_to(proxy.url)
            await runtime.register(proxy.url)
            await agents.hook("config", request_url=runtime.webhook_url)
            handoffs = [await _open_handoff(runtime, proxy.url, n) for n in range(HANDOFFS)]
            queue = Queue(database_url, tmp_path / "bridge-data")
            burst = Burst()
            user_tokens, agent_tokens = (
                [new_token("user") for _ in range(BURST)],
                [new_token("agent") for _ in range(BURST)],
            )
            users = [_user_message(runtime, proxy.url, handoffs[i % HANDOFFS], t) for i, t in enumerate(user_tokens)]
            replies = [_agent_reply(agents, handoffs[i % HANDOFFS], t) for i, t in enumerate(agent_tokens)]
            killing = asyncio.create_task(_kill_holder_and_restart(http, running, queue, burst, held_writes))
            await asyncio.gather(
                *(burst.send(attempt) for pair in zip(users, replies, strict=True) for attempt in pair)
            )
            assert await killing < 2 * BURST, "the worker was killed after the burst, not in its middle"
            await burst.resend_until_answered()

            await _each_exactly_once(runtime, agents, user_tokens, agent_tokens, queue)


def _slack_runtime(http: httpx.AsyncClient, running: Cluster, slack_url: str) -> Runtime:
    configuration = {"adapter": "slack", "botToken": BOT_TOKEN, "signingSecret": SIGNING_SECRET,
                     "channelId": CHANNEL, "apiBaseUrl": f"{slack_url}/api"}  # fmt: skip
    return Runtime(http, running.botpress_url, configuration)


Handoff = tuple[str, str, str]
"""The Botpress user, the hitl conversation and the Slack session id (``<channel>:<parent ts>``)."""


async def _open_handoff(runtime: Runtime, url: str, number: int) -> Handoff:
    bp_user_id = await runtime.create_user(url, f"Jane Doe {number}", f"jane{number}@example.com")
    start = {"userId": bp_user_id, "title": f"Refund {number}", "messageHistory": []}
    answer = await runtime.action(url, "startHitl", start)
    assert answer.status_code == 200, answer.text
    bp_conversation_id: str = answer.json()["output"]["conversationId"]
    conversation = (await runtime.state())["conversations"][bp_conversation_id]
    return bp_user_id, bp_conversation_id, conversation["tags"]["id"]


def _user_message(runtime: Runtime, url: str, handoff: Handoff, token: str) -> Callable[[], Awaitable[bool]]:
    """The end user's message; a resend is the runtime's retry of the same ``message_created``."""
    bp_user_id, bp_conversation_id, session_id = handoff
    body = hitl_text_body(bp_conversation_id, session_id, bp_user_id, new_bp_message_id(), token)

    async def attempt() -> bool:
        return (await runtime.seed_and_message(url, body)).status_code == 200

    return attempt


def _agent_reply(agents: SlackAgents, handoff: Handoff, token: str) -> Callable[[], Awaitable[bool]]:
    """Bob replies once in the thread; the fake Slack retries the delivery 3 times while it is not acknowledged, and
    a resend is one more retry of that delivery (real Slack waits minutes between its retries, the fake does not:
    the resends stand for the retries a restart outlasts). Never a new message."""
    thread_ts = handoff[2].split(":", 1)[1]
    delivery_ids: list[int] = []

    async def attempt() -> bool:
        if not delivery_ids:
            (delivery,) = (await agents.hook("reply", channel=CHANNEL, thread_ts=thread_ts, user=BOB, text=token))[
                "deliveries"
            ]
            delivery_ids.append(int(delivery["id"]))
        else:
            delivery = (await agents.hook("redeliver", delivery=delivery_ids[0]))["deliveries"][0]
        return any(answer.get("acknowledged") for answer in delivery["answers"])

    return attempt


class Queue:
    """The work queue's table, read from the test (the embedded store's file, or the PostgreSQL database)."""

    def __init__(self, database_url: str | None, data_dir: Path) -> None:
        self.database_url, self.path = database_url, data_dir / "coordination.sqlite3"

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        sql = sql.format(now=repr(time.time()))  # the queue's clock is the wall clock
        if self.database_url is None:
            return await asyncio.to_thread(self._sqlite_rows, sql)
        connection = await asyncpg.connect(self.database_url)
        try:
            return [dict(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    def _sqlite_rows(self, sql: str) -> list[dict[str, Any]]:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        connection.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in connection.execute(sql)]
        finally:
            connection.close()

    async def lease_holders(self) -> set[int]:
        """The process ids of the workers holding a lease on a queued item now (the owner names its process)."""
        return {int(str(row["owner"]).split("-")[1]) for row in await self.rows(_LEASED)}

    async def retaken(self) -> int:
        """Items taken more than once (a killed worker's, taken again once its lease expired)."""
        return int((await self.rows(_RETAKEN))[0]["n"])

    async def queued(self) -> int:
        """Items not done yet (leased or waiting)."""
        return int((await self.rows(_QUEUED))[0]["n"])


async def _kill_holder_and_restart(
    http: httpx.AsyncClient, running: Cluster, queue: Queue, burst: Burst, held_writes: str
) -> int:
    """Once midway, hold Botpress's writes until some are parked and a worker holds a lease on an acknowledged
    delivery it cannot apply; kill -9 that worker, release the writes (``applied``: committed, their answers
    lost; ``dropped``: they never reached Botpress, so the killed worker's items are not applied at all), start it
    again. How many requests were done at the kill."""
    await burst.midway.wait()
    for method, path in HELD_WRITES:
        await http.post(f"{running.botpress_url}/_test/hold_api", json={"method": method, "path": path})

    async def holder() -> Worker | None:
        if (await http.get(f"{running.botpress_url}/_test/held")).json()["held"] < HELD_BEFORE_KILL:
            return None
        pids = await queue.lease_holders()
        return next((w for w in running.workers if w.process and w.process.popen.pid in pids), None)

    try:
        victim: Worker = await eventually(holder, "a worker holding a leased delivery while Botpress holds writes")
        done_at_kill = burst.done
        victim.kill()
    finally:
        release = {"drop": held_writes == "dropped"}
        (await http.post(f"{running.botpress_url}/_test/release", json=release)).raise_for_status()
    await asyncio.to_thread(running.restart, victim)
    return done_at_kill


async def _each_exactly_once(
    runtime: Runtime, agents: SlackAgents, user_tokens: list[str], agent_tokens: list[str], queue: Queue
) -> None:
    await eventually(lambda: _drained(queue), "the work queue to be drained", within_seconds=60)
    assert await queue.retaken() > 0, "no item the killed worker held was taken again"
    posted = [json.dumps(m) for m in (await agents.get("channel", channel=CHANNEL))["messages"] if "bot_id" in m]
    texts = [m["payload"].get("text") or "" for m in (await runtime.state())["messages"]]
    user_counts = {token: sum(token in m for m in posted) for token in user_tokens}
    agent_counts = {token: sum(token in t for t in texts) for token in agent_tokens}
    lost = [t for t, n in {**user_counts, **agent_counts}.items() if n == 0]
    twice = {t: n for t, n in {**user_counts, **agent_counts}.items() if n > 1}
    assert (lost, twice) == ([], {}), f"{len(lost)} lost, {len(twice)} repeated: {lost[:5]} {twice}"
    assert (await agents.get("violations"))["violations"] == []
    assert await runtime.violations() == []


async def _drained(queue: Queue) -> bool:
    return await queue.queued() == 0
