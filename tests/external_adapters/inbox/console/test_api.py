"""The console JSON API and the admin API, over HTTP, on a real inbox service."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import add_agent, events, open_session

from .conftest import ADMIN_TOKEN, CLIENT, login

Client = TestClient[Any, Any]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_login_sets_a_cookie_and_goes_available(client: Client, inbox: InboxService) -> None:
    assert (await client.get("/console/api/me")).status == 401
    bad = await client.post("/console/api/login", json={"email": "admin@example.com", "password": "nope"})
    assert bad.status == 401 and (await bad.json()) == {"error": "wrong e-mail or password", "code": 401}
    body = await login(client)
    assert body["agent"]["status"] == "available" and body["token"]
    me = await (await client.get("/console/api/me")).json()
    assert me["agent"]["email"] == "admin@example.com" and "urgent" in me["labels"]
    bearer = await client.get("/console/api/me", headers={"Authorization": f"Bearer {body['token']}"}, cookies={})
    assert bearer.status == 200


async def test_cookie_writes_need_the_client_header(client: Client) -> None:
    await login(client)
    refused = await client.put("/console/api/me/status", json={"status": "busy"})
    assert refused.status == 403
    accepted = await client.put("/console/api/me/status", json={"status": "busy"}, headers=CLIENT)
    assert (await accepted.json())["status"] == "busy"


async def test_bad_input_names_the_field(client: Client) -> None:
    await login(client)
    response = await client.put("/console/api/me/status", json={"status": "napping"}, headers=CLIENT)
    assert response.status == 400 and (await response.json())["field"] == "status"
    garbage = await client.post("/console/api/views", data="{", headers={**CLIENT, "Content-Type": "application/json"})
    assert garbage.status == 400 and (await garbage.json())["field"] == "body"
    queue = await client.get("/console/api/queue?state=BOGUS")
    assert queue.status == 400


async def test_handle_a_session_over_the_api(client: Client, inbox: InboxService) -> None:
    await login(client)
    session_id = await open_session(inbox)
    queue = await (await client.get("/console/api/queue?assigned=unassigned")).json()
    assert [(i["session"]["id"], i["unclaimed"]) for i in queue] == [(session_id, True)]
    claim = await client.post(f"/console/api/sessions/{session_id}/claim", headers=CLIENT)
    assert (await claim.json())["state"] == "ASSIGNED"
    templates = await (await client.get("/console/api/templates?contactName=Jane")).json()
    reply = await client.post(
        f"/console/api/sessions/{session_id}/messages", json={"text": templates[0]["text"]}, headers=CLIENT
    )
    assert reply.status == 201
    labels = await client.put(f"/console/api/sessions/{session_id}/labels", json={"values": ["urgent"]}, headers=CLIENT)
    assert (await labels.json())["labels"] == ["urgent"]
    detail = await (await client.get(f"/console/api/sessions/{session_id}")).json()
    contact_id = detail["contact"]["id"]
    note = await client.post(f"/console/api/contacts/{contact_id}/notes", json={"text": "VIP"}, headers=CLIENT)
    assert note.status == 201
    resolved = await client.post(f"/console/api/sessions/{session_id}/resolve", headers=CLIENT)
    assert (await resolved.json())["close_reason"] == "resolved"
    sent = [e["type"] for e in await events(inbox, session_id)]
    assert sent == ["agent_assigned", "agent_message", "agent_message", "session_closed"]
    profile = await (await client.get(f"/console/api/contacts/{contact_id}")).json()
    assert [n["text"] for n in profile["notes"]] == ["VIP"] and profile["contact"]["bp_user_id"]


async def test_other_agents_cannot_touch_what_they_cannot_see(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "sally", groups=("sales",))
    session_id = await open_session(inbox, ruleTags=["billing"], claimTimeoutSeconds=600)
    await login(client, "sally@example.com")
    assert (await client.get(f"/console/api/sessions/{session_id}")).status == 404
    assert (await client.post(f"/console/api/sessions/{session_id}/claim", headers=CLIENT)).status == 404
    assert (await client.post("/console/api/agents", json={}, headers=CLIENT)).status == 403


async def test_live_channel_delivers_offers_and_messages(client: Client, inbox: InboxService) -> None:
    await login(client)
    async with client.ws_connect("/console/api/live") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        session_id = await open_session(inbox)
        received = [await ws.receive_json() for _ in range(2)]
        assert {m["type"] for m in received} == {"handoff", "offer"}
        await inbox.intake.add_user_message(session_id, "msg_1", "text", {"text": "anyone there?"})
        message = await ws.receive_json()
        assert message["type"] == "message" and message["data"]["text"] == "anyone there?"


async def test_live_channel_requires_login(client: Client) -> None:
    assert (await client.get("/console/api/live")).status == 401


async def test_admin_api(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    session_id = await open_session(inbox)
    assert (await client.get("/admin/api/sessions")).status == 401
    assert (await client.get("/admin/api/sessions", headers={"Authorization": "Bearer wrong"})).status == 401
    listed = await (await client.get("/admin/api/sessions?state=NEEDS_ACTION", headers=ADMIN)).json()
    assert [s["id"] for s in listed["sessions"]] == [session_id]
    assert (await client.get("/admin/api/sessions?state=nope", headers=ADMIN)).status == 400
    paused = await client.post(f"/admin/api/sessions/{session_id}/pause", headers=ADMIN)
    assert (await paused.json())["paused"] is True
    await inbox.actions.claim(alice, session_id)
    await inbox.actions.reply(alice, session_id, "while paused")
    assert "while paused" not in json.dumps(await events(inbox, session_id))
    await client.post(f"/admin/api/sessions/{session_id}/unpause", headers=ADMIN)
    assert "while paused" in json.dumps(await events(inbox, session_id))
    text = await (await client.get(f"/admin/api/sessions/{session_id}/transcript?format=text", headers=ADMIN)).text()
    assert "[agent] Alice: while paused" in text
    exported = await (await client.get(f"/admin/api/sessions/{session_id}/transcript", headers=ADMIN)).json()
    assert exported["session"]["id"] == session_id
    assert (await client.get("/admin/api/sessions/ses_x/transcript", headers=ADMIN)).status == 404
    created = await client.post(
        "/admin/api/agents",
        json={"email": "bob@example.com", "password": "long enough", "groups": ["vip"]},
        headers=ADMIN,
    )
    assert created.status == 201 and (await created.json())["groups"] == ["vip"]


async def test_console_page_is_served(client: Client) -> None:
    page = await client.get("/console")
    assert page.status == 200 and "<title>Inbox" in await page.text()
    script = await client.get("/console/static/js/main.js")
    assert script.status == 200


async def test_a_session_url_serves_the_console_page(client: Client) -> None:
    """A deep link (``/console/sessions/<id>``) serves the page, which opens that session (the browser tests)."""
    page = await client.get("/console/sessions/ses_anything")
    assert page.status == 200 and '<script type="module" src="/console/static/js/main.js">' in await page.text()
