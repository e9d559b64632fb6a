"""The queue's console endpoints: ``/queue`` sort and item fields, ``/counts``, ``/sessions/{id}/read`` and the
``read`` live event to the agent's other tabs."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import open_session

from .conftest import CLIENT, live_socket, login

Client = TestClient[Any, Any]


async def test_queue_items_carry_unread_wait_and_state_words(client: Client, inbox: InboxService) -> None:
    await login(client)
    session_id = await open_session(inbox)
    await inbox.intake.add_user_message(session_id, "bpmsg_1", "text", {"text": "hello"})
    [item] = await (await client.get("/console/api/queue?sort=waiting")).json()
    assert {k: item[k] for k in ("unread", "last_direction", "state_text", "outcome")} == {
        "unread": 1,
        "last_direction": "user",
        "state_text": "Waiting",
        "outcome": None,
    }
    assert item["waiting_since"] == item["session"]["created_at"] and item["last_activity"] > 0
    bad = await client.get("/console/api/queue?sort=loudest")
    assert bad.status == 400


async def test_read_answers_zero_even_when_repeated_after_a_lost_answer(client: Client, inbox: InboxService) -> None:
    await login(client)
    session_id = await open_session(inbox)
    await inbox.intake.add_user_message(session_id, "bpmsg_1", "text", {"text": "hello"})
    assert await (await client.get("/console/api/counts")).json() == {"waiting": 1, "unread": 1}
    for _ in range(2):  # the first answer is dropped by the network; the console asks again
        response = await client.post(f"/console/api/sessions/{session_id}/read", headers=CLIENT)
        assert (response.status, await response.json()) == (200, {"unread": 0})
    assert await (await client.get("/console/api/counts")).json() == {"waiting": 1, "unread": 0}
    rows = await inbox.store.fetch_all("SELECT agent_id FROM read_marks WHERE session_id = ?", (session_id,))
    assert len(rows) == 1
    missing = await client.post("/console/api/sessions/ses_nope/read", headers=CLIENT)
    assert missing.status == 404


async def test_reading_in_one_tab_tells_the_agents_other_tabs(client: Client, inbox: InboxService) -> None:
    ws, token = await live_socket(client, "admin@example.com")
    session_id = await open_session(inbox)
    await client.post(
        f"/console/api/sessions/{session_id}/read", headers={"Authorization": f"Bearer {token}"}, cookies={}
    )
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != "read":
        seen.append(await ws.receive_json(timeout=5))
    assert seen[-1]["data"] == {"sessionId": session_id, "unread": 0}
    await ws.close()
