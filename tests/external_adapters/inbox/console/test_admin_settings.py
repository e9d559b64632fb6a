"""Templates, labels and shared views in the inbox database, edited through the console's admin API.

Each test runs on both backends. Seeding happens once per database: a restart after an admin's edits keeps them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from external_adapters.inbox.config import InboxOptions
from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import Clock, DatabaseFactory, add_agent, open_session

from .conftest import login

Client = TestClient[Any, Any]
API = "/console/api"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_fresh_inbox_ships_examples_and_seeds_once(tmp_path: Path, databases: DatabaseFactory) -> None:
    first = await InboxService.open(tmp_path / "inbox", InboxOptions(), Clock(), database=await databases())
    assert [t.shortcut for t in await first.settings.templates()] == ["bye", "hello", "wait"]
    assert await first.settings.labels() == ["billing", "bug", "feedback", "urgent"]
    hello = next(t for t in await first.settings.templates() if t.shortcut == "hello")
    await first.settings.delete_template(hello.id)
    await first.settings.set_labels([])
    await first.store.close()
    # A restart (on PostgreSQL a new pool on the same database) keeps the admin's edits.
    again = await InboxService.open(tmp_path / "inbox", InboxOptions(labels=["x"]), Clock(), database=await databases())
    assert [t.shortcut for t in await again.settings.templates()] == ["bye", "wait"]
    assert await again.settings.labels() == []
    await again.store.close()


async def test_two_workers_starting_at_once_seed_once(tmp_path: Path, databases: DatabaseFactory) -> None:
    first_db, second_db = await databases(), await databases()
    if first_db is None or second_db is None:  # one embedded file has one opener
        first = await InboxService.open(tmp_path / "inbox", InboxOptions(), Clock())
        await first.store.close()
        services = [await InboxService.open(tmp_path / "inbox", InboxOptions(), Clock())]
    else:
        services = list(
            await asyncio.gather(
                InboxService.open(tmp_path / "a", InboxOptions(), Clock(), database=first_db),
                InboxService.open(tmp_path / "b", InboxOptions(), Clock(), database=second_db),
            )
        )
    assert [t.shortcut for t in await services[0].settings.templates()] == ["bye", "hello", "wait"]
    for service in services:
        await service.store.close()


async def test_templates_seeded_from_the_option_and_edited(client: Client, inbox: InboxService) -> None:
    headers = bearer((await login(client))["token"])
    stored = await (await client.get(f"{API}/admin/templates", headers=headers)).json()
    assert [(t["shortcut"], t["text"]) for t in stored] == [("hello", "Hello {{contactName}}, I am {{agentName}}.")]
    body = {"shortcut": "refund", "title": "Refund", "text": "Dear {{contactName}}, {{agentName}} here."}
    created = await client.post(f"{API}/admin/templates", json=body, headers=headers)
    template = await created.json()
    assert created.status == 201 and template["shortcut"] == "refund"
    # The answer was lost: the same request again answers the same template and adds none.
    repeat = await client.post(f"{API}/admin/templates", json=body, headers=headers)
    assert (repeat.status, await repeat.json()) == (200, template)
    clash = await client.post(f"{API}/admin/templates", json={**body, "text": "other"}, headers=headers)
    assert clash.status == 409
    filled = await (await client.get(f"{API}/templates?contactName=Jane", headers=headers)).json()
    assert {"shortcut": "refund", "title": "Refund", "text": "Dear Jane, admin here."} in filled


async def test_update_and_delete_a_template(client: Client, inbox: InboxService) -> None:
    headers = bearer((await login(client))["token"])
    hello = (await (await client.get(f"{API}/admin/templates", headers=headers)).json())[0]
    change = {"shortcut": "hi", "title": "", "text": "Hi {{contactName}}"}
    updated = await client.put(f"{API}/admin/templates/{hello['id']}", json=change, headers=headers)
    assert await updated.json() == {"id": hello["id"], **change}
    again = await client.put(f"{API}/admin/templates/{hello['id']}", json=change, headers=headers)
    assert await again.json() == await updated.json()  # absolute values: a repeat writes the same row
    other = await (
        await client.post(f"{API}/admin/templates", json={"shortcut": "x", "text": "y"}, headers=headers)
    ).json()
    taken = await client.put(f"{API}/admin/templates/{other['id']}", json=change, headers=headers)
    assert (taken.status, (await taken.json())["error"]) == (409, "shortcut: /hi exists already")
    empty = await client.post(f"{API}/admin/templates", json={"shortcut": "two words", "text": ""}, headers=headers)
    assert (empty.status, (await empty.json())["field"]) == (400, "shortcut")
    missing = await client.put(f"{API}/admin/templates/tpl_nope", json={"shortcut": "z", "text": "z"}, headers=headers)
    assert missing.status == 404
    for _ in range(2):  # deleting what is gone succeeds: a repeat is harmless
        assert (await client.delete(f"{API}/admin/templates/{hello['id']}", headers=headers)).status == 200
    remaining = await (await client.get(f"{API}/admin/templates", headers=headers)).json()
    assert [t["shortcut"] for t in remaining] == ["x"]


async def test_labels_in_the_database(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    headers = bearer((await login(client))["token"])
    put = await client.put(f"{API}/admin/labels", json={"labels": ["vip", " refund ", "vip", ""]}, headers=headers)
    assert await put.json() == ["vip", "refund"]
    again = await client.put(f"{API}/admin/labels", json={"labels": ["vip", "refund"]}, headers=headers)
    assert await again.json() == ["vip", "refund"]
    alice_headers = bearer((await login(client, "alice@example.com"))["token"])
    assert await (await client.get(f"{API}/labels", headers=alice_headers)).json() == ["vip", "refund"]
    assert (await (await client.get(f"{API}/me", headers=alice_headers)).json())["labels"] == ["vip", "refund"]
    session_id = await open_session(inbox, claimTimeoutSeconds=600)
    labelled = await inbox.actions.set_labels(alice, session_id, ["refund"])
    assert labelled.labels == ["refund"]
    old = await client.put(f"{API}/sessions/{session_id}/labels", json={"values": ["billing"]}, headers=alice_headers)
    assert (old.status, (await old.json())["field"]) == (400, "labels")
    # A label removed from the list stays on the session when another one is toggled.
    await client.put(f"{API}/admin/labels", json={"labels": ["vip"]}, headers=headers)
    kept = await client.put(
        f"{API}/sessions/{session_id}/labels", json={"values": ["refund", "vip"]}, headers=alice_headers
    )
    assert (await kept.json())["labels"] == ["refund", "vip"]


async def test_shared_views(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "alice")
    admin = bearer((await login(client))["token"])
    alice = bearer((await login(client, "alice@example.com"))["token"])
    view = {"name": "Waiting VIP", "filters": {"state": "NEEDS_ACTION", "tag": "vip"}, "shared": True}
    created = await client.post(f"{API}/views", json=view, headers=admin)
    shared = await created.json()
    assert created.status == 201 and shared["shared"] is True
    repeat = await client.post(f"{API}/views", json=view, headers=admin)  # the first answer was lost
    assert await repeat.json() == shared
    assert [v["id"] for v in await (await client.get(f"{API}/views", headers=admin)).json()].count(shared["id"]) == 1
    assert len(await (await client.get(f"{API}/views", headers=admin)).json()) == 1
    assert shared in await (await client.get(f"{API}/views", headers=alice)).json()
    refused = await client.post(f"{API}/views", json=view, headers=alice)
    assert (refused.status, (await refused.json())["error"]) == (403, "admins only")
    assert (await client.delete(f"{API}/views/{shared['id']}", headers=alice)).status == 403
    own = await (await client.post(f"{API}/views", json={**view, "shared": False}, headers=alice)).json()
    assert own not in await (await client.get(f"{API}/views", headers=admin)).json()
    assert (await client.delete(f"{API}/views/{shared['id']}", headers=admin)).status == 200
    assert shared not in await (await client.get(f"{API}/views", headers=alice)).json()
