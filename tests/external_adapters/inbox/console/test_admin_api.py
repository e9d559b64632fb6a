"""The admin part of the console API: agents (disable, reset password, groups), templates, labels, shared views.

Each test runs on both backends (``client`` → ``inbox`` → ``databases``). The retry tests repeat a write whose first
answer a client lost (it committed) and check the repeat answers what the first did and changes nothing more.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from external_adapters.inbox.models import SessionState
from external_adapters.inbox.service import InboxService
from external_adapters.inbox.team import AgentPatch
from tests.external_adapters.inbox.conftest import PASSWORD, add_agent, open_session

from .conftest import CLIENT, live_socket, login

Client = TestClient[Any, Any]
API = "/console/api"
live_channel = importlib.import_module("external_adapters.inbox.console.live")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def next_event(ws: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next live event ``wanted`` picks (others, such as presence changes, are skipped)."""
    while True:
        event: dict[str, Any] = await ws.receive_json(timeout=5)
        if wanted(event):
            return event


async def closing_frame(ws: Any) -> Any:
    """The socket's close frame (events sent before it, such as the agent's own change, are skipped)."""
    while True:
        message = await ws.receive(timeout=5)
        if message.type is not WSMsgType.TEXT:
            return message


async def admin_token(client: Client) -> dict[str, str]:
    return bearer((await login(client))["token"])


async def test_admin_endpoints_answer_403_to_agents(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    token = bearer((await login(client, "alice@example.com"))["token"])
    writes = [
        ("PATCH", f"/agents/{alice.id}", {"name": "Al"}),
        ("POST", f"/agents/{alice.id}/password", {"password": "a new long password"}),
        ("GET", "/admin/templates", None),
        ("POST", "/admin/templates", {"shortcut": "x", "text": "y"}),
        ("PUT", "/admin/labels", {"labels": ["a"]}),
        ("POST", "/agents", {"email": "x@example.com", "password": PASSWORD}),
    ]
    for method, path, body in writes:
        response = await client.request(method, API + path, json=body, headers=token)
        assert (response.status, (await response.json())["error"]) == (403, "admins only"), path


async def test_create_agent_is_announced_and_a_repeat_names_the_existing_agent(
    client: Client, inbox: InboxService
) -> None:
    await add_agent(inbox, "alice")
    ws, _ = await live_socket(client, "alice@example.com")
    headers = await admin_token(client)
    body = {"email": "Bob@Example.com", "password": PASSWORD, "name": "Bob", "groups": ["vip", " vip "]}
    created = await client.post(f"{API}/agents", json=body, headers=headers)
    agent = await created.json()
    assert created.status == 201 and agent["groups"] == ["vip"] and agent["disabled"] is False
    assert await next_event(ws, lambda e: e["type"] == "agent" and e["data"]["id"] == agent["id"]) == {
        "type": "agent",
        "data": agent,
    }
    # The first answer was lost: the repeat creates nothing and says which agent has the e-mail.
    repeat = await client.post(f"{API}/agents", json=body, headers=headers)
    assert repeat.status == 409
    assert await repeat.json() == {
        "error": "email: an agent with e-mail bob@example.com exists",
        "code": 409,
        "field": "email",
        "agent_id": agent["id"],
    }
    assert [a.email for a in await inbox.agents.all()].count("bob@example.com") == 1
    await ws.close()


async def test_disabling_ends_the_logins_and_sockets_and_refuses_sign_in(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    ws, alice_token = await live_socket(client, "alice@example.com")
    headers = await admin_token(client)
    patched = await client.patch(f"{API}/agents/{alice.id}", json={"disabled": True}, headers=headers)
    assert patched.status == 200
    assert (await patched.json())["disabled"] is True and (await patched.json())["status"] == "offline"
    message = await closing_frame(ws)
    assert message.type is WSMsgType.CLOSE and message.data == live_channel.LOGIN_ENDED
    assert (await client.get(f"{API}/me", headers=bearer(alice_token))).status == 401
    refused = await client.post(f"{API}/login", json={"email": "alice@example.com", "password": PASSWORD})
    assert (refused.status, (await refused.json())["error"]) == (401, "this account is disabled")
    wrong = await client.post(f"{API}/login", json={"email": "alice@example.com", "password": "not it at all"})
    assert (await wrong.json())["error"] == "wrong e-mail or password"  # disabled is said to the password's owner only
    # A repeat after a lost answer: the same agent, nothing else revoked.
    again = await client.patch(f"{API}/agents/{alice.id}", json={"disabled": True}, headers=headers)
    assert await again.json() == await patched.json()
    enabled = await client.patch(f"{API}/agents/{alice.id}", json={"disabled": False}, headers=headers)
    assert (await enabled.json())["disabled"] is False
    assert (await client.post(f"{API}/login", json={"email": "alice@example.com", "password": PASSWORD})).status == 200


async def test_a_disable_made_elsewhere_closes_the_socket_through_the_agent_event(
    client: Client, inbox: InboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_channel, "LOGIN_CHECK_SECONDS", 3600.0)  # only the event can close it in time
    alice = await add_agent(inbox, "alice")
    ws, _ = await live_socket(client, "alice@example.com")
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    # Through the service, as another worker serving the admin would: no HTTP handler here closes the socket.
    await inbox.team.update(admin, alice.id, AgentPatch(disabled=True))
    message = await closing_frame(ws)
    assert message.type is WSMsgType.CLOSE and message.data == live_channel.LOGIN_ENDED


async def test_a_login_racing_the_disable_opens_nothing(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    headers = await admin_token(client)
    await client.patch(f"{API}/agents/{alice.id}", json={"disabled": True}, headers=headers)
    # A token issued after the disable committed (the login had checked the password before it).
    late_token = await inbox.agents.issue_token(alice.id)
    assert (await client.get(f"{API}/me", headers=bearer(late_token))).status == 401


async def test_a_disabled_agent_is_not_offered_listed_nor_a_transfer_target(
    client: Client, inbox: InboxService
) -> None:
    alice, bob = await add_agent(inbox, "alice"), await add_agent(inbox, "bob")
    headers = await admin_token(client)
    await client.patch(f"{API}/agents/{bob.id}", json={"disabled": True}, headers=headers)
    await inbox.agents.set_status(bob.id, "available")  # even if something turned them available again
    session_id = await open_session(inbox, claimTimeoutSeconds=600, targetAgent="bob@example.com")
    async with inbox.store.read() as db:
        row = await db.fetch_one("SELECT state, close_reason FROM sessions WHERE id = ?", (session_id,))
    assert row is not None and (row["state"], row["close_reason"]) == (SessionState.CLOSED.value, "NO_AGENTS")
    alice_headers = bearer((await login(client, "alice@example.com"))["token"])
    listed = await (await client.get(f"{API}/agents", headers=alice_headers)).json()
    assert bob.id not in [a["id"] for a in listed]
    assert bob.id in [a["id"] for a in await (await client.get(f"{API}/agents", headers=headers)).json()]
    other = await open_session(inbox, "key-2", claimTimeoutSeconds=600)
    await inbox.actions.claim(alice, other)
    refused = await client.post(f"{API}/sessions/{other}/transfer", json={"agent": bob.id}, headers=alice_headers)
    assert (refused.status, (await refused.json())["field"]) == (400, "agent")


async def test_an_admin_cannot_lock_themself_out(client: Client, inbox: InboxService) -> None:
    me = (await login(client))["agent"]
    headers = CLIENT  # the login cookie, with the console's header
    for body in ({"disabled": True}, {"role": "agent"}):
        refused = await client.patch(f"{API}/agents/{me['id']}", json=body, headers=headers)
        assert refused.status == 409, body
    renamed = await client.patch(
        f"{API}/agents/{me['id']}", json={"name": " Ada ", "groups": ["b", "a"]}, headers=headers
    )
    assert ((await renamed.json())["name"], (await renamed.json())["groups"]) == ("Ada", ["a", "b"])
    assert (await client.patch(f"{API}/agents/agt_nope", json={"name": "x"}, headers=headers)).status == 404
    bad = await client.patch(f"{API}/agents/{me['id']}", json={"role": "king"}, headers=headers)
    assert (bad.status, (await bad.json())["field"]) == (400, "role")


async def test_reset_password_revokes_the_logins(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    ws, alice_token = await live_socket(client, "alice@example.com")
    headers = await admin_token(client)
    new = {"password": "a brand new password"}
    reset = await client.post(f"{API}/agents/{alice.id}/password", json=new, headers=headers)
    assert (reset.status, await reset.json()) == (200, {"ok": True})
    message = await closing_frame(ws)
    assert message.type is WSMsgType.CLOSE and message.data == live_channel.LOGIN_ENDED
    assert (await client.get(f"{API}/me", headers=bearer(alice_token))).status == 401
    old = await client.post(f"{API}/login", json={"email": "alice@example.com", "password": PASSWORD})
    assert old.status == 401
    repeat = await client.post(f"{API}/agents/{alice.id}/password", json=new, headers=headers)
    assert repeat.status == 200  # the answer was lost: the same password again
    signed_in = await client.post(f"{API}/login", json={"email": "alice@example.com", **new})
    assert signed_in.status == 200
    short = await client.post(f"{API}/agents/{alice.id}/password", json={"password": "short"}, headers=headers)
    assert (short.status, (await short.json())["field"]) == (400, "password")


async def test_an_admin_resetting_their_own_password_keeps_this_login(client: Client, inbox: InboxService) -> None:
    body = await login(client)
    headers = bearer(body["token"])
    reset = await client.post(
        f"{API}/agents/{body['agent']['id']}/password", json={"password": "my new long password"}, headers=headers
    )
    assert reset.status == 200
    assert (await client.get(f"{API}/me", headers=headers)).status == 200


async def test_the_admin_page_is_served_at_its_sections(client: Client) -> None:
    for path in ("/console/admin", "/console/admin/agents", "/console/admin/templates", "/console/admin/views"):
        page = await client.get(path)
        assert page.status == 200 and 'src="/console/static/js/admin/main.js"' in await page.text(), path
    assert (await client.get("/console/admin/nope")).status == 404
    assert (await client.get("/console/static/js/admin/agents.js")).status == 200


async def test_a_fan_out_skips_a_disabled_agent(client: Client, inbox: InboxService) -> None:
    alice, bob = await add_agent(inbox, "alice"), await add_agent(inbox, "bob")
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    await inbox.team.update(admin, bob.id, AgentPatch(disabled=True))
    await inbox.agents.set_status(bob.id, "available")  # even if something turned them available again
    async with inbox.hub.subscribe(alice.id) as alice_feed, inbox.hub.subscribe(bob.id) as bob_feed:
        await open_session(inbox, claimTimeoutSeconds=600)
        alice_types = [alice_feed.queue.get_nowait().type for _ in range(alice_feed.queue.qsize())]
        bob_types = [bob_feed.queue.get_nowait().type for _ in range(bob_feed.queue.qsize())]
    assert "offer" in alice_types and "offer" not in bob_types
