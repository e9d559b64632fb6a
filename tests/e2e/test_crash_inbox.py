"""kill -9 in the middle of a burst, with the built-in inbox: nothing lost, nothing twice.

On both backends: the embedded store with its one worker, and PostgreSQL with three workers behind the proxy. A
burst of 50 end-user messages (``message_created``) and 50 agent replies (the console API, which the inbox delivers
to Botpress through its outbox and the webhook relay) runs; midway the fake Botpress holds the writes it received
(acks, agent messages), a worker is killed with SIGKILL, the writes are applied, and the worker is started again.
Then every request that got no 2xx is sent again until it does: a message by the runtime, as it is; a reply as an
agent in the console does, who sends it again only when the conversation does not show it (the reply API has no
idempotency key: a blind resend of a reply that was stored would be a second reply, by the agent's own doing).
Each message carries a unique token: each must be stored once by the inbox, and each reply must reach Botpress once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .cluster import (
    Cluster,
    Runtime,
    cluster,
    hitl_text_body,
    new_bp_message_id,
    new_token,
    round_robin,
)
from .conftest import eventually
from .inbox_console import ADMIN_EMAIL, INBOX_ENV, Admin, Agent, inbox_runtime, start_handoff
from .test_crash_zendesk import BURST, Burst, _kill_and_restart_midway

pytestmark = pytest.mark.e2e
LEASE_SECONDS = float(INBOX_ENV["HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__DELIVERY_LEASE_SECONDS"])


async def test_a_worker_killed_mid_burst_loses_and_repeats_nothing(
    backend: tuple[int, str | None], tmp_path: Path, http: httpx.AsyncClient
) -> None:
    count, database_url = backend
    with cluster(tmp_path, count=count, adapter="inbox", database_url=database_url, settings=INBOX_ENV) as running:
        async with round_robin(running.workers) as proxy:
            agent = await Agent(http, proxy.url, ADMIN_EMAIL).login()  # before the handoff: an agent is available
            runtime = inbox_runtime(http, running)
            bp_user_id, bp_conversation_id, session_id = await start_handoff(runtime, proxy.url, proxy.url)
            assert (await agent.claim(session_id)).status_code == 200
            user_tokens = [new_token("user") for _ in range(BURST)]
            agent_tokens = [new_token("agent") for _ in range(BURST)]

            def user_message(token: str) -> Callable[[], Awaitable[bool]]:
                body = hitl_text_body(bp_conversation_id, session_id, bp_user_id, new_bp_message_id(), token)

                async def attempt() -> bool:
                    return (await runtime.seed_and_message(proxy.url, body)).status_code == 200

                return attempt

            burst = Burst()
            sends = [burst.send(user_message(token)) for token in user_tokens]
            sends += [burst.send(_agent_reply(agent, session_id, token)) for token in agent_tokens]
            interleaved = [s for pair in zip(sends[:BURST], sends[BURST:], strict=True) for s in pair]
            killing = asyncio.create_task(_kill_and_restart_midway(http, running, running.workers[0], burst))
            await asyncio.gather(*interleaved)
            assert await killing < 2 * BURST, "the worker was killed after the burst, not in its middle"
            await burst.resend_until_answered()

            await _each_exactly_once(runtime, Admin(http, proxy.url), session_id, user_tokens, agent_tokens, running)


def _agent_reply(agent: Agent, session_id: str, token: str) -> Callable[[], Awaitable[bool]]:
    """The agent replies; after no answer, they look at the conversation and send it again only if it is missing."""
    tried: list[bool] = []

    async def attempt() -> bool:
        if tried and any(token in m["text"] for m in (await agent.session(session_id))["messages"]):
            return True
        tried.append(True)
        return (await agent.reply(session_id, token)).status_code == 201

    return attempt


async def _each_exactly_once(
    runtime: Runtime, admin: Admin, session_id: str, user_tokens: list[str], agent_tokens: list[str], running: Cluster
) -> None:
    """Every token stored once by the inbox; every reply once in Botpress, once the outbox has settled."""

    async def botpress_texts() -> list[str]:
        return [m["payload"].get("text") or "" for m in (await runtime.state())["messages"]]

    async def all_replies_delivered() -> bool:
        texts = await botpress_texts()
        return all(any(token in t for t in texts) for token in agent_tokens)

    await eventually(all_replies_delivered, "every reply in Botpress", within_seconds=30, diagnostics=running.logs)
    await eventually(_Unchanged(botpress_texts).check, "Botpress's messages to settle", within_seconds=30)
    stored = [m["text"] for m in await admin.messages(session_id)]
    texts = await botpress_texts()
    counts = {t: sum(t in s for s in stored) for t in user_tokens + agent_tokens}
    counts |= {f"botpress:{t}": sum(t in s for s in texts) for t in agent_tokens}
    lost = [t for t, n in counts.items() if n == 0]
    twice = {t: n for t, n in counts.items() if n > 1}
    assert (lost, twice) == ([], {}), f"{len(lost)} lost, {len(twice)} repeated: {lost[:5]} {twice}"
    assert await runtime.violations() == []


class _Unchanged:
    """True once what ``read`` returns has not changed for longer than an outbox lease: a delivery a killed worker
    had leased would have been made again by then."""

    def __init__(self, read: Callable[[], Awaitable[list[Any]]]) -> None:
        self.read = read
        self.last: list[Any] | None = None
        self.since = time.monotonic()

    async def check(self) -> bool:
        current = await self.read()
        if current != self.last:
            self.last, self.since = current, time.monotonic()
        return time.monotonic() - self.since > LEASE_SECONDS + 1
