"""An agent can neither write into nor hear about a session outside their visibility."""

from __future__ import annotations

from typing import Any, cast

from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import Clock, add_agent, events, open_session

from .conftest import CLIENT, live_socket, login

Client = TestClient[Any, Any]


async def test_an_agent_cannot_write_into_a_hidden_session(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "sally", groups=("sales",))
    await add_agent(inbox, "alice", groups=("billing",))
    session_id = await open_session(inbox, ruleTags=["billing"], claimTimeoutSeconds=600)
    await inbox.intake.link(session_id, "conv_billing")
    contact_id = (await inbox.queries.export(session_id))["contact"]["id"]
    await login(client, "sally@example.com")
    response = await client.post(f"/console/api/contacts/{contact_id}/messages", json={"text": "hi"}, headers=CLIENT)
    assert response.status == 409
    assert "hi" not in [e.get("message", {}).get("payload", {}).get("text") for e in await events(inbox, session_id)]


async def test_an_agent_writes_into_the_last_session_they_may_see(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "sally", groups=("sales",))
    await add_agent(inbox, "alice", groups=("billing",))
    visible = await open_session(inbox, "key-sales", ruleTags=["sales"], claimTimeoutSeconds=600)
    await inbox.intake.link(visible, "conv_sales")
    cast(Clock, inbox.clock).advance(1)
    hidden = await open_session(inbox, "key-billing", ruleTags=["billing"], claimTimeoutSeconds=600)
    await inbox.intake.link(hidden, "conv_billing")
    contact_id = (await inbox.queries.export(visible))["contact"]["id"]
    await login(client, "sally@example.com")
    response = await client.post(f"/console/api/contacts/{contact_id}/messages", json={"text": "hi"}, headers=CLIENT)
    assert response.status == 201 and (await response.json())["session_id"] == visible
    assert not [e for e in await events(inbox, hidden) if e["type"] == "agent_message"]


async def test_live_events_of_a_hidden_session_reach_only_who_may_see_it(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice", groups=("billing",))
    sally = await add_agent(inbox, "sally", groups=("sales",))
    sally_ws, _ = await live_socket(client, "sally@example.com")
    alice_ws, _ = await live_socket(client, "alice@example.com")
    session_id = await open_session(inbox, ruleTags=["billing"], claimTimeoutSeconds=600)
    await inbox.intake.add_user_message(session_id, "msg_1", "text", {"text": "my invoice"})
    await inbox.actions.claim(await inbox.agents.get(alice.id), session_id)
    await inbox.actions.set_status(sally, "busy")  # an event for everyone, after the hidden session's
    seen_by_sally = await sally_ws.receive_json(timeout=5)
    assert seen_by_sally["type"] == "agent", seen_by_sally
    seen_by_alice = [(await alice_ws.receive_json(timeout=5))["type"]]
    while seen_by_alice[-1] != "agent":
        seen_by_alice.append((await alice_ws.receive_json(timeout=5))["type"])
    assert {"handoff", "offer", "message", "session", "offer_withdrawn"} <= set(seen_by_alice)
    await sally_ws.close()
    await alice_ws.close()


async def test_an_admin_cannot_retag_a_contact_hidden_from_them(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "vera", groups=("vip",), role="admin")
    await add_agent(inbox, "sam", groups=("sales",), role="admin")
    session_id = await open_session(inbox)
    contact_id = (await inbox.queries.export(session_id))["contact"]["id"]
    await login(client, "vera@example.com")
    tagged = await client.put(f"/console/api/contacts/{contact_id}/tags", json={"values": ["vip"]}, headers=CLIENT)
    assert tagged.status == 200
    await login(client, "sam@example.com")
    retag = await client.put(f"/console/api/contacts/{contact_id}/tags", json={"values": ["sales"]}, headers=CLIENT)
    assert retag.status == 404
    assert (await inbox.queries.export(session_id))["contact"]["visibility_tags"] == ["vip"]
