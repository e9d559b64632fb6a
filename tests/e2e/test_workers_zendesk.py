"""Three ``hitl-bridge serve`` workers on one PostgreSQL, with Zendesk (the fake server), behind a round-robin proxy.

Each worker is its own process, on its own port and with its own data folder: they share only the database, as
workers on separate hosts would. The test is the Botpress runtime (operations to the proxy, or to chosen workers
at once), the fake Botpress server holds what the integration wrote and relays the helpdesk's webhooks, and the fake
Zendesk server holds tickets and comments and sends the signed trigger webhooks.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .cluster import (
    Cluster,
    Runtime,
    cluster,
    gather_statuses,
    hitl_text_body,
    new_bp_message_id,
    new_token,
    round_robin,
)
from .conftest import ZENDESK_CREDENTIALS, Server, eventually

pytestmark = pytest.mark.e2e


class Desk:
    """The fake Zendesk account as the test sees it (its ``/_test`` endpoints)."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def act(self, action: str, **body: Any) -> list[dict[str, Any]]:
        answer = await self.http.post(f"{self.url}/_test/{action}", json=body)
        assert answer.status_code == 200, answer.text
        deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
        return deliveries

    async def state(self) -> dict[str, Any]:
        answer = await self.http.get(f"{self.url}/_test/state")
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    async def comments_with(self, token: str) -> list[dict[str, Any]]:
        tickets = (await self.state())["tickets"].values()
        return [c for t in tickets for c in t["comments"] if token in (c.get("body") or c.get("html_body") or "")]


def zendesk_runtime(http: httpx.AsyncClient, running: Cluster, zendesk_url: str) -> Runtime:
    configuration = {**ZENDESK_CREDENTIALS, "adapter": "zendesk", "baseUrl": zendesk_url}
    return Runtime(http, running.botpress_url, configuration)


async def open_handoff(runtime: Runtime, url: str) -> tuple[str, str, str]:
    """register, createUser, startHitl through ``url``: the Botpress user, hitl conversation and ticket ids."""
    await runtime.relay_to(url)
    await runtime.register(url)
    bp_user_id = await runtime.create_user(url, "Jane Doe", "jane@example.com")
    answer = await runtime.action(url, "startHitl", {"userId": bp_user_id, "title": "Refund", "messageHistory": []})
    assert answer.status_code == 200, answer.text
    bp_conversation_id: str = answer.json()["output"]["conversationId"]
    conversation = (await runtime.state())["conversations"][bp_conversation_id]
    return bp_user_id, bp_conversation_id, conversation["tags"]["id"]


async def test_five_identical_start_hitl_on_three_workers_open_one_ticket_and_one_conversation(
    database_url: str, tmp_path: Path, http: httpx.AsyncClient, zendesk_server: Server
) -> None:
    with cluster(tmp_path, count=3, adapter="zendesk", database_url=database_url) as running:
        async with round_robin(running.workers) as proxy:
            runtime = zendesk_runtime(http, running, zendesk_server.url)
            await runtime.relay_to(proxy.url)
            await runtime.register(proxy.url)
            bp_user_id = await runtime.create_user(proxy.url, "Jane Doe", "jane@example.com")
            start = {"userId": bp_user_id, "title": "Refund", "messageHistory": []}
            answers = await asyncio.gather(*(runtime.action(proxy.url, "startHitl", start) for _ in range(5)))

            assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
            assert len({a.json()["output"]["conversationId"] for a in answers}) == 1
            tickets = (await Desk(http, zendesk_server.url).state())["tickets"]
            assert len(tickets) == 1, tickets
            hitl = [c for c in (await runtime.state())["conversations"].values() if c["channel"] == "hitl"]
            assert len(hitl) == 1, hitl
            assert await runtime.violations() == []


async def test_one_message_sent_to_three_workers_at_once_is_one_comment(
    database_url: str, tmp_path: Path, http: httpx.AsyncClient, zendesk_server: Server
) -> None:
    with cluster(tmp_path, count=3, adapter="zendesk", database_url=database_url) as running:
        async with round_robin(running.workers) as proxy:
            runtime = zendesk_runtime(http, running, zendesk_server.url)
            bp_user_id, bp_conversation_id, ticket_id = await open_handoff(runtime, proxy.url)
            token = new_token("once")
            body = hitl_text_body(bp_conversation_id, ticket_id, bp_user_id, new_bp_message_id(), f"refund {token}")
            await runtime.seed(body)
            statuses = await gather_statuses(*(runtime.call(w.url, "message_created", body) for w in running.workers))

            assert statuses == [200, 200, 200]
            comments = await Desk(http, zendesk_server.url).comments_with(token)
            assert len(comments) == 1, comments


async def test_assign_and_solve_racing_on_different_workers_emit_each_event_once_and_end_closed(
    database_url: str, tmp_path: Path, http: httpx.AsyncClient, zendesk_server: Server
) -> None:
    with cluster(tmp_path, count=3, adapter="zendesk", database_url=database_url) as running:
        async with round_robin(running.workers) as proxy:
            runtime = zendesk_runtime(http, running, zendesk_server.url)
            _, bp_conversation_id, ticket_id = await open_handoff(runtime, proxy.url)
            deliveries = await _race_assign_and_solve(http, runtime, Desk(http, zendesk_server.url), int(ticket_id))
            # Zendesk retries too: each delivery again, to every worker at once.
            await gather_statuses(*(_redeliver(runtime, w.url, d) for d in deliveries for w in running.workers))

            events = [e["type"] for e in (await runtime.state())["events"]]
            assert sorted(events) == ["hitlAssigned", "hitlStopped"], events
            session = _hitl_session(await runtime.state(), bp_conversation_id)
            assert session is not None and session["closed"] is True, session


async def _race_assign_and_solve(
    http: httpx.AsyncClient, runtime: Runtime, desk: Desk, ticket_id: int
) -> list[dict[str, Any]]:
    """The agent assigns then solves; both webhooks are held by the relay, then sent at once (to two workers)."""
    (await http.post(f"{runtime.botpress_url}/_test/hold")).raise_for_status()
    acting = [
        asyncio.create_task(desk.act("assign", ticket_id=ticket_id)),
        asyncio.create_task(desk.act("solve", ticket_id=ticket_id)),
    ]

    async def held() -> bool:
        return bool((await http.get(f"{runtime.botpress_url}/_test/held")).json()["held"] >= 2)

    await eventually(held, "both webhooks to reach the relay", within_seconds=10)
    (await http.post(f"{runtime.botpress_url}/_test/release")).raise_for_status()
    fired = [delivery for task in acting for delivery in await task]
    assert [d["answer"]["status"] for d in fired] == [200] * len(fired), fired
    recorded: list[dict[str, Any]] = (await desk.state())["deliveries"]
    return [d for d in recorded if d["id"] in {f["id"] for f in fired}]


async def _redeliver(runtime: Runtime, url: str, delivery: dict[str, Any]) -> httpx.Response:
    """One recorded Zendesk delivery, relayed by Botpress as ``webhook_received`` to the worker at ``url``."""
    path = delivery["url"].split("/", 3)[3] if delivery["url"].count("/") >= 3 else ""
    req = {"method": "POST", "path": f"/{path}", "query": "", "headers": delivery["headers"], "body": delivery["body"]}
    return await runtime.call(url, "webhook_received", json.dumps({"req": req}))


def _hitl_session(state: dict[str, Any], bp_conversation_id: str) -> dict[str, Any] | None:
    found = [s for s in state["states"] if s["id"] == bp_conversation_id and s["name"] == "hitlSession"]
    return found[0]["payload"] if found else None
