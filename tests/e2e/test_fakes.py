"""What the speed benchmark relies on in the HTTP fakes, checked in-process (fast, so they run with the unit tests).

* The route table answers as the respx router it replaces (same handler, same arguments, same misses);
* the fake Botpress's indexes find the records the scans find, in the same order, after tags change;
* ``GET /_test/calls`` counts every API request by call name, a miss included;
* ``"deliver": false`` answers the signed deliveries without sending them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from respx.models import AllMockedAssertionError

from external_adapters.zendesk.webhooks import verify
from tests.contracts.botpress import BP_TEST_API_URL
from tests.external_adapters.zendesk import fake_zendesk
from tests.external_adapters.zendesk.fake_zendesk import FakeZendesk
from tests.fake_botpress import FakeBotpress

from .botpress_server import BotpressServer
from .indexed_botpress import IndexedBotpress
from .indexed_zendesk import IndexedZendesk
from .route_table import NoRoute, RouteTable
from .zendesk_server import ZendeskServer

ZD = "https://acme.zendesk.com"


def _bp(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Request:
    return httpx.Request(method, f"{BP_TEST_API_URL}/v1/chat{path}", json=body)


def _zd(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Request:
    return httpx.Request(method, f"{ZD}{path}", json=body)


# --- the route table ------------------------------------------------------------------------------------------


ZENDESK_SCRIPT = [
    _zd("POST", "/api/v2/users/create_or_update.json", {"user": {"name": "Jane", "email": "jane@example.com"}}),
    _zd("POST", "/api/v2/tickets.json", {"ticket": {"subject": "s", "comment": {"body": "hi"}, "external_id": "e1"}}),
    _zd("PUT", "/api/v2/tickets/1003.json", {"ticket": {"comment": {"body": "two", "public": True}}}),
    _zd("PUT", "/api/v2/tickets/1003", {"ticket": {"comment": {"body": "three", "public": False}, "tags": ["x"]}}),
    _zd("GET", "/api/v2/tickets/1003/comments.json?page[size]=2&sort=-created_at&include=users"),
    _zd("GET", "/api/v2/tickets/1003/comments.json?page[size]=2&page[after]=cur-2"),
    _zd("GET", "/api/v2/tickets/1003/audits.json?per_page=1&page=2"),
    _zd("GET", "/api/v2/tickets.json?external_id=e1"),
    _zd("GET", "/api/v2/search.json?query=type:ticket tags:x"),
    _zd("GET", "/api/v2/tickets/999.json"),
    _zd("GET", "/api/v2/users/1000"),
]


def test_the_route_table_answers_as_the_respx_router(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_zendesk, "_now", lambda: "2025-01-01T12:00:00Z")  # both fakes stamp alike
    routed, table = FakeZendesk(), RouteTable.of(FakeZendesk().install)
    router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
    routed.install(router)
    for request in ZENDESK_SCRIPT:
        expected, answer = router.handler(request), table.handle(request)
        assert (answer.status_code, answer.json()) == (expected.status_code, expected.json()), request.url
        assert answer.request is request
    miss = _zd("PATCH", "/api/v2/tickets/1003.json")
    with pytest.raises(AllMockedAssertionError):
        router.handler(miss)
    with pytest.raises(NoRoute):
        table.handle(miss)


def test_the_route_table_checks_the_host_when_a_route_names_one() -> None:
    table = RouteTable.of(FakeBotpress().install)
    assert table.handle(_bp("GET", "/users/user_1")).status_code == 404  # the fake's own "not found"
    with pytest.raises(NoRoute):
        table.handle(httpx.Request("GET", "https://elsewhere.test/v1/chat/users/user_1"))


# --- the fake Botpress's indexes ------------------------------------------------------------------------------


def _filled() -> tuple[IndexedBotpress, RouteTable, dict[str, str]]:
    """Users, conversations and messages whose tags overlap and change (ids by label)."""
    fake = IndexedBotpress()
    table, ids = RouteTable.of(fake.install), {}
    for label, tags in [("u1", {"a": "1"}), ("u2", {"a": "1", "b": "2"}), ("u3", {"b": "2"})]:
        ids[label] = table.handle(_bp("POST", "/users", {"tags": tags})).json()["user"]["id"]
    table.handle(_bp("PUT", f"/users/{ids['u1']}", {"tags": {"a": "3"}}))
    table.handle(_bp("PUT", f"/users/{ids['u1']}", {"tags": {"a": "1"}}))  # back: u1 is still listed first
    table.handle(_bp("PUT", f"/users/{ids['u3']}", {"tags": {"b": ""}}))  # a tag removed
    for label, channel, tags in [("c1", "hitl", {"id": "7"}), ("c2", "web", {"id": "7"}), ("c3", "hitl", {"id": "8"})]:
        body = {"channel": channel, "tags": tags, "discriminateByTags": list(tags)}
        ids[label] = table.handle(_bp("POST", "/conversations/get-or-create", body)).json()["conversation"]["id"]
    for n, conversation in enumerate(["c1", "c2", "c1", "c1", "c3"]):
        body = {"conversationId": ids[conversation], "userId": ids["u1"], "type": "text", "payload": {"text": "x"}}
        body["tags"] = {"id": str(n % 2), "kind": "reply" if n < 3 else "note"}
        ids[f"m{n}"] = table.handle(_bp("POST", "/messages", body)).json()["message"]["id"]
    table.handle(_bp("PUT", f"/messages/{ids['m0']}", {"tags": {"kind": "note"}}))
    seeded = {"id": "msg_seeded", "conversationId": ids["c1"], "tags": {"id": "0"}, "userId": "user_bot"}
    fake.seed_bot_message({"message": {**seeded, "type": "text", "payload": {"text": "bot"}}})
    return fake, table, ids


def _lookups(ids: dict[str, str]) -> list[tuple[str, httpx.Request]]:
    """Each lookup with the name of the scanning method of :class:`FakeBotpress` that answers it."""
    c1, c2 = ids["c1"], ids["c2"]
    lists = [
        ("_list_users", "/users"),
        ("_list_users", "/users?tags.a=1"),
        ("_list_users", "/users?tags.a=3"),
        ("_list_users", "/users?tags.a=1&tags.b=2"),
        ("_list_users", "/users?tags.b=2"),
        ("_list_conversations", "/conversations"),
        ("_list_conversations", "/conversations?tags.id=7"),
        ("_list_conversations", "/conversations?channel=hitl&tags.id=7"),
        ("_list_conversations", "/conversations?channel=hitl"),
        ("_list_conversations", "/conversations?channel=none"),
        ("_list_messages", "/messages"),
        ("_list_messages", f"/messages?conversationId={c1}"),
        ("_list_messages", f"/messages?conversationId={c1}&tags.id=0"),
        ("_list_messages", "/messages?tags.kind=note"),
        ("_list_messages", "/messages?tags.kind=reply&tags.id=0"),
        ("_list_messages", f"/messages?conversationId={c2}&tags.kind=note"),
    ]
    found: list[tuple[str, httpx.Request]] = [(name, _bp("GET", path)) for name, path in lists]
    user = {"tags": {"a": "1", "c": "9"}, "discriminateByTags": ["a"]}
    conversation = {"channel": "web", "tags": {"id": "7"}, "discriminateByTags": ["id"]}
    message = {"conversationId": c1, "userId": "u", "type": "text", "payload": {}, "tags": {"id": "0"}}
    found += [
        ("_get_or_create_user", _bp("POST", "/users/get-or-create", user)),
        ("_get_or_create_conversation", _bp("POST", "/conversations/get-or-create", conversation)),
        ("_get_or_create_message", _bp("POST", "/messages/get-or-create", message)),
    ]
    return found


def test_the_indexes_find_what_the_scans_find_in_the_same_order() -> None:
    fake, table, ids = _filled()
    for scan, request in _lookups(ids):
        indexed = table.handle(request).json()
        scanned = getattr(FakeBotpress, scan)(fake, request).json()  # the scan, over the same records
        assert indexed == scanned, request.url
    assert (len(fake.users), len(fake.conversations), len(fake.messages)) == (3, 3, 6)  # nothing created twice
    listed = table.handle(_bp("GET", "/users?tags.a=1")).json()["users"]
    assert [user["id"] for user in listed] == [ids["u1"], ids["u2"]]  # creation order, not the order of indexing
    assert fake.messages_in(ids["c1"]) == FakeBotpress.messages_in(fake, ids["c1"])


def test_get_or_create_creates_when_the_index_has_no_match() -> None:
    _, table, ids = _filled()
    tags = {"id": "0"}  # in c1 and c3, not in c2
    message = {"conversationId": ids["c2"], "userId": "u", "type": "text", "payload": {}, "tags": tags}
    created = table.handle(_bp("POST", "/messages/get-or-create", message)).json()["message"]
    again = table.handle(_bp("POST", "/messages/get-or-create", message)).json()["message"]
    assert created["id"] == again["id"] and created["id"] not in ids.values()
    user = {"tags": {"a": "3"}, "discriminateByTags": ["a"]}  # u1 had it once: a stale entry, not a match
    assert table.handle(_bp("POST", "/users/get-or-create", user)).json()["user"]["id"] not in ids.values()


def test_the_zendesk_indexes_find_what_the_scans_find_in_the_same_order() -> None:
    fake = IndexedZendesk()
    table = RouteTable.of(fake.install)
    ticket_ids = []
    for external_id, tags in [("e1", ["hitl", "a"]), ("e2", ["hitl"]), ("e1", ["b"]), ("e3", [])]:
        body = {"ticket": {"comment": {"body": "hi"}, "external_id": external_id, "tags": tags}}
        ticket_ids.append(table.handle(_zd("POST", "/api/v2/tickets.json", body)).json()["ticket"]["id"])
    retag = {"ticket": {"tags": ["hitl", "a"], "external_id": "e9"}}  # the third changes both: stale entries
    for ticket_id in (ticket_ids[2], ticket_ids[1]):  # indexed out of creation order
        table.handle(_zd("PUT", f"/api/v2/tickets/{ticket_id}.json", retag))
    queries = ["tags:hitl", "type:ticket tags:hitl tags:a", "tags:b", "tags:none", "type:ticket", ""]
    for scan, path in [("_list_tickets", f"/api/v2/tickets.json?external_id={e}") for e in ("e1", "e2", "e9", "x")] + [
        ("_search", f"/api/v2/search.json?query={query}") for query in queries
    ]:
        request = _zd("GET", path)
        assert table.handle(request).json() == getattr(FakeZendesk, scan)(fake, request).json(), path
    listed = table.handle(_zd("GET", "/api/v2/search.json?query=tags:hitl tags:a")).json()["results"]
    assert [ticket["id"] for ticket in listed] == ticket_ids[:3]


# --- the servers' counters and unsent deliveries --------------------------------------------------------------


async def test_the_fake_botpress_counts_each_call_by_route(aiohttp_client: Any) -> None:
    client = await aiohttp_client(BotpressServer(checked=False).app())
    user = await (await client.post("/v1/chat/users", json={"tags": {"id": "1"}})).json()
    for path in [f"/v1/chat/users/{user['user']['id']}", "/v1/chat/users/user_9", "/v1/chat/conversations?tags.id=1"]:
        await client.get(path)
    assert (await client.patch("/v1/chat/users/user_9")).status == 404  # not a route of the fake, still counted
    calls = (await (await client.get("/_test/calls")).json())["calls"]
    assert calls == {
        "POST /v1/chat/users": 1,
        "GET /v1/chat/users/{id}": 2,
        "GET /v1/chat/conversations?tags.id": 1,
        "PATCH /v1/chat/users/{id}": 1,
    }
    assert (await (await client.get("/_test/violations")).json())["violations"] == [
        "PATCH /v1/chat/users/user_9: not an endpoint of the fake Botpress"
    ]


async def test_the_fake_zendesk_counts_each_call_by_route(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(ZendeskServer(tmp_path, checked=False).app())
    ticket = {"ticket": {"comment": {"body": "hi"}}}
    ticket_id = (await (await client.post("/api/v2/tickets.json", json=ticket)).json())["ticket"]["id"]
    await client.get(f"/api/v2/tickets/{ticket_id}/comments.json?page[size]=20&sort=-created_at")
    await client.get(f"/api/v2/tickets/{ticket_id}/comments.json?sort=-created_at&page[size]=20")
    await client.get(f"/api/v2/tickets/{ticket_id}.json")
    calls = (await (await client.get("/_test/calls")).json())["calls"]
    assert calls == {
        "POST /api/v2/tickets.json": 1,
        "GET /api/v2/tickets/{id}/comments.json?page[size],sort": 2,
        "GET /api/v2/tickets/{id}.json": 1,
    }


async def test_deliver_false_answers_the_signed_deliveries_unsent(aiohttp_client: Any, tmp_path: Path) -> None:
    server = ZendeskServer(tmp_path, checked=False)
    client = await aiohttp_client(server.app())
    endpoint = "http://127.0.0.1:9/hooks/zendesk"  # nothing listens: a delivery sent would fail and say so
    fake = server.zendesk
    fake.webhooks["01WEBHOOK"] = {"name": "bridge", "endpoint": endpoint, "secret": "whsec-test"}
    template = '{"ticket": "{{ticket.id}}", "comment": "{{ticket.public_comments[0].id}}"}'
    action = {"field": "notification_webhook", "value": ["01WEBHOOK", template]}
    fake.triggers[1] = {"title": "bridge", "conditions": {"all": [], "any": []}, "actions": [action]}
    ticket = {"ticket": {"comment": {"body": "hi"}}}
    ticket_id = (await (await client.post("/api/v2/tickets.json", json=ticket)).json())["ticket"]["id"]
    acted = await client.post(
        "/_test/agent_comment", json={"ticket_id": ticket_id, "html": "<p>ok</p>", "deliver": False}
    )
    (delivery,) = (await acted.json())["deliveries"]
    comment_id = fake.tickets[ticket_id].comments[-1]["id"]
    assert delivery["url"] == endpoint
    assert json.loads(delivery["body"]) == {"ticket": str(ticket_id), "comment": str(comment_id)}
    verify("whsec-test", delivery["headers"], delivery["body"].encode(), now=time.time())  # signed, just now
    assert server.deliveries[0].answers == []  # recorded, never sent
