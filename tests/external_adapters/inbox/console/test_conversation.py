"""The conversation backend of the console: retry-safe replies and attachments, the signed file links, delivery
state, resolved-by, claim-race words, and JSON answers for unknown paths and wrong methods."""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
import respx
from aiohttp.test_utils import TestClient

from external_adapters.inbox.console import api_conversation
from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import Clock, add_agent, open_session

from .conftest import CLIENT, live_socket, login

Client = TestClient[Any, Any]
HOOK = "http://hooks.test/wh_1"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


async def _claimed(client: Client, inbox: InboxService) -> str:
    await login(client)
    session_id = await open_session(inbox)
    await inbox.intake.link(session_id, "conv_1")
    assert (await client.post(f"/console/api/sessions/{session_id}/claim", headers=CLIENT)).status == 200
    return session_id


async def _reply(client: Client, session_id: str) -> str:
    """Send "Hi" in the session from the console; the message's id."""
    reply = await client.post(f"/console/api/sessions/{session_id}/messages", json={"text": "Hi"}, headers=CLIENT)
    message_id: str = (await reply.json())["id"]
    return message_id


async def _deliver_up_to(outbox: Any, message_id: str) -> None:
    """Deliver what comes before the message (the assignment and its text), so that it is the one left."""
    while [r["message_id"] for r in await outbox.pending()] != [message_id]:
        assert await outbox.deliver_due()


def _form(data: bytes, filename: str, content_type: str) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)  # as browsers send a file name: UTF-8, not percent-encoded
    form.add_field("file", data, filename=filename, content_type=content_type)
    return form


async def _agent_messages(inbox: InboxService, session_id: str) -> list[dict[str, Any]]:
    rows = await inbox.store.fetch_all("SELECT body FROM outbox WHERE session_id = ? ORDER BY id", (session_id,))
    bodies = [json.loads(row["body"]) for row in rows]
    return [b for b in bodies if b["type"] == "agent_message" and b["agent"]["id"] != "inbox-system"]


async def test_a_reply_repeated_with_its_key_after_a_lost_answer_is_sent_once(
    client: Client, inbox: InboxService
) -> None:
    session_id = await _claimed(client, inbox)
    url, headers = f"/console/api/sessions/{session_id}/messages", {**CLIENT, "Idempotency-Key": "k-1"}
    first = await client.post(url, json={"text": "Hello"}, headers=headers)
    assert first.status == 201
    sent = await first.json()
    assert sent["delivery"] == "sending" and sent["delivery_error"] is None
    repeat = await client.post(url, json={"text": "Hello"}, headers=headers)  # the first answer was lost
    assert (await repeat.json())["id"] == sent["id"]
    assert [m["messageId"] for m in await _agent_messages(inbox, session_id)] == [sent["id"]]
    other = await client.post(url, json={"text": "Hello"}, headers={**CLIENT, "Idempotency-Key": "k-2"})
    assert (await other.json())["id"] != sent["id"]


async def test_an_attachment_is_a_real_image_message_whose_link_serves_the_bytes(
    client: Client, inbox: InboxService
) -> None:
    session_id = await _claimed(client, inbox)
    url, headers = f"/console/api/sessions/{session_id}/attachments", {**CLIENT, "Idempotency-Key": "up-1"}
    response = await client.post(url, data=_form(PNG, "shot.png", "image/png"), headers=headers)
    assert response.status == 201, await response.text()
    message = await response.json()
    assert message["type"] == "image" and message["delivery"] == "sending"
    [event] = await _agent_messages(inbox, session_id)
    assert event["message"] == {"type": "image", "payload": {"imageUrl": message["payload"]["imageUrl"]}}
    link = urlsplit(message["payload"]["imageUrl"])
    served = await client.get(f"{link.path}?{link.query}")
    assert served.status == 200 and await served.read() == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["Cache-Control"] == "private, max-age=86400"
    repeat = await client.post(url, data=_form(PNG, "shot.png", "image/png"), headers=headers)
    assert (await repeat.json())["id"] == message["id"]
    assert len(await _agent_messages(inbox, session_id)) == 1
    assert len(await inbox.store.fetch_all("SELECT key FROM files")) == 1


async def test_a_file_attachment_carries_its_name_and_downloads(client: Client, inbox: InboxService) -> None:
    session_id = await _claimed(client, inbox)
    form = _form(b"%PDF-1.4 hello", "report été.pdf", "application/pdf")
    message = await (
        await client.post(f"/console/api/sessions/{session_id}/attachments", data=form, headers=CLIENT)
    ).json()
    assert message["type"] == "file" and message["payload"]["title"] == "report été.pdf"
    link = urlsplit(message["payload"]["fileUrl"])
    served = await client.get(f"{link.path}?{link.query}")
    assert served.headers["Content-Disposition"] == "attachment; filename*=UTF-8''report%20%C3%A9t%C3%A9.pdf"
    forged = await client.get(f"{link.path}?{link.query[:-1]}0")
    assert forged.status == 403 and (await forged.json())["code"] == 403
    unsigned = await client.get(link.path)
    assert unsigned.status == 403
    unknown = await inbox.core.files.url("http://x", "fil_nope", inbox.clock())
    missing = await client.get(urlsplit(unknown).path + "?" + urlsplit(unknown).query)
    assert missing.status == 404 and (await missing.json())["error"] == "no such file"


async def test_an_expired_link_is_refused(client: Client, inbox: InboxService) -> None:
    session_id = await _claimed(client, inbox)
    form = _form(PNG, "a.png", "image/png")
    message = await (
        await client.post(f"/console/api/sessions/{session_id}/attachments", data=form, headers=CLIENT)
    ).json()
    link = urlsplit(message["payload"]["imageUrl"])
    expires = int(dict(p.split("=") for p in link.query.split("&"))["expires"])
    assert not await inbox.core.files.check(link.path.rsplit("/", 1)[1], str(expires), "x", expires + 1)


async def test_attachments_refuse_a_missing_empty_or_too_large_file(
    client: Client, inbox: InboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = await _claimed(client, inbox)
    url = f"/console/api/sessions/{session_id}/attachments"
    empty = await client.post(url, data=_form(b"", "a.txt", "text/plain"), headers=CLIENT)
    assert empty.status == 400 and (await empty.json())["field"] == "file"
    other = aiohttp.FormData()
    other.add_field("note", "hi")
    assert (await (await client.post(url, data=other, headers=CLIENT)).json())["field"] == "file"
    monkeypatch.setattr(api_conversation, "MAX_BYTES", 10)
    large = await client.post(url, data=_form(b"x" * 11, "a.txt", "text/plain"), headers=CLIENT)
    assert large.status == 413 and (await large.json())["code"] == 413
    assert await _agent_messages(inbox, session_id) == []


@respx.mock
async def test_a_reply_botpress_no_longer_knows_fails_with_words_and_can_be_retried(
    client: Client, inbox: InboxService
) -> None:
    session_id = await _claimed(client, inbox)
    message_id = await _reply(client, session_id)
    respx.post(HOOK).mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient() as http:
        outbox = inbox.attach_outbox(http)
        await _deliver_up_to(outbox, message_id)
        respx.post(HOOK).mock(return_value=httpx.Response(404))
        assert await outbox.deliver_due() == 0
        detail = await (await client.get(f"/console/api/sessions/{session_id}")).json()
        [failed] = [m for m in detail["messages"] if m["id"] == message_id]
        assert failed["delivery"] == "failed"
        assert failed["delivery_error"] == "Botpress no longer knows this conversation (webhook answered 404)"
        retry_url = f"/console/api/sessions/{session_id}/messages/{message_id}/retry"
        retried = await client.post(retry_url, headers=CLIENT)
        assert (await retried.json())["delivery"] == "sending"
        assert (await client.post(retry_url, headers=CLIENT)).status == 409  # only a failed message is retried
        respx.post(HOOK).mock(return_value=httpx.Response(200))
        assert await outbox.deliver_due() == 1
    detail = await (await client.get(f"/console/api/sessions/{session_id}")).json()
    assert [m["delivery"] for m in detail["messages"] if m["id"] == message_id] == ["delivered"]


@respx.mock
async def test_delivery_gives_up_after_the_configured_time_and_frees_the_session(
    client: Client, inbox: InboxService
) -> None:
    respx.post(HOOK).mock(return_value=httpx.Response(503))
    await _claimed(client, inbox)
    clock = cast(Clock, inbox.clock)
    async with httpx.AsyncClient() as http:
        outbox = inbox.attach_outbox(http)
        assert await outbox.deliver_due() == 0
        assert next(r["gave_up_at"] for r in await outbox.pending()) is None  # a 503 is retried
        clock.advance(inbox.options.delivery_give_up_seconds)
        assert await outbox.deliver_due() == 0  # gives up on the assignment: the next event is free to go
        pending = await outbox.pending()
        assert pending[0]["gave_up_at"] is not None and pending[0]["last_error"] == "webhook answered 503"
        assert await outbox.deliver_due() == 0
        assert (await outbox.pending())[1]["attempts"] == 1


async def test_live_consoles_learn_delivery_changes(client: Client, inbox: InboxService) -> None:
    session_id = await _claimed(client, inbox)
    message_id = await _reply(client, session_id)
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    await inbox.store.database.execute(
        "UPDATE outbox SET gave_up_at = 1, last_error = 'webhook answered 400' WHERE message_id = ?", (message_id,)
    )
    async with inbox.hub.subscribe(admin.id) as feed:
        await inbox.actions.retry(admin, session_id, message_id)
        event = feed.queue.get_nowait()
    assert event.type == "delivery"
    assert event.data == {
        "sessionId": session_id,
        "messageId": message_id,
        "delivery": "sending",
        "deliveryError": None,
    }


async def test_resolve_records_who_and_when(client: Client, inbox: InboxService) -> None:
    session_id = await _claimed(client, inbox)
    resolved = await (await client.post(f"/console/api/sessions/{session_id}/resolve", headers=CLIENT)).json()
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    assert (resolved["closed_by_agent_id"], resolved["closed_by_name"]) == (admin.id, admin.name)
    assert resolved["closed_at"] == inbox.clock()
    stopped_id = await open_session(inbox, "key-2", email="joe@example.com")
    await inbox.intake.close_by_bot(stopped_id)
    detail = await (await client.get(f"/console/api/sessions/{stopped_id}")).json()
    assert detail["session"]["closed_by_name"] is None and detail["session"]["closed_at"] == inbox.clock()


async def test_the_loser_of_a_claim_race_reads_who_took_it(client: Client, inbox: InboxService) -> None:
    alice = await add_agent(inbox, "alice")
    session_id = await open_session(inbox)
    await inbox.actions.claim(alice, session_id)
    await login(client)
    lost = await client.post(f"/console/api/sessions/{session_id}/claim", headers=CLIENT)
    assert lost.status == 409 and (await lost.json())["error"] == "Alice took this conversation"


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("POST", "/console/api/nope", 404, None),
        ("GET", "/console/api/sessions/x/y/z", 404, None),
        ("DELETE", "/console/api/login", 405, "POST"),
        ("GET", "/console/api/sessions/ses_1/claim", 405, "POST"),
        ("PUT", "/console/api/sessions/ses_1", 405, "GET"),
        ("POST", "/console/files/abc", 405, "GET"),
        ("POST", "/console/files/a/b", 404, None),
    ],
)
async def test_unknown_paths_and_wrong_methods_answer_json(
    client: Client, method: str, path: str, status: int, allow: str | None
) -> None:
    response = await client.request(method, path, headers=CLIENT)
    assert response.status == status
    body = await response.json()
    assert body["code"] == status and ("no such endpoint" if status == 404 else "use") in body["error"]
    assert response.headers.get("Allow") == allow


async def test_typing_reaches_the_other_agents_who_may_see_the_session(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "bob")
    await add_agent(inbox, "sally", groups=("sales",))
    session_id = await open_session(inbox, ruleTags=["support"], claimTimeoutSeconds=600)
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    await inbox.agents.set_groups(admin.id, ["support"])
    bob = await inbox.agents.find("bob@example.com")
    assert bob is not None
    await inbox.agents.set_groups(bob.id, ["support"])
    typer, admin_token = await live_socket(client, "admin@example.com")
    watcher, _ = await live_socket(client, "bob@example.com")
    outsider, _ = await live_socket(client, "sally@example.com")
    await typer.send_json({"type": "typing", "sessionId": session_id})
    event = await watcher.receive_json(timeout=5)
    assert event == {"type": "typing", "data": {"sessionId": session_id, "agent": {"id": admin.id, "name": admin.name}}}
    await typer.send_str("not json")  # ignored, the socket stays open
    created = await client.post(
        "/console/api/agents",
        json={"email": "new@example.com", "password": "a long password!", "name": "Newbie"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert created.status == 201
    for ws in (watcher, outsider):  # everyone learns of the new agent (Transfer lists), nobody else of the typing
        agent_event = await ws.receive_json(timeout=5)
        assert (agent_event["type"], agent_event["data"]["email"]) == ("agent", "new@example.com")
    for ws in (typer, watcher, outsider):
        await ws.close()


@respx.mock
async def test_the_outbox_tells_live_consoles_when_a_reply_fails_and_when_it_is_delivered(
    client: Client, inbox: InboxService
) -> None:
    session_id = await _claimed(client, inbox)
    message_id = await _reply(client, session_id)
    admin = await inbox.agents.find("admin@example.com")
    assert admin is not None
    async with httpx.AsyncClient() as http, inbox.hub.subscribe(admin.id) as feed:
        outbox = inbox.attach_outbox(http)
        respx.post(HOOK).mock(return_value=httpx.Response(200))
        await _deliver_up_to(outbox, message_id)
        respx.post(HOOK).mock(return_value=httpx.Response(404))  # Botpress forgot the conversation
        await outbox.deliver_due()
        await inbox.actions.retry(admin, session_id, message_id)
        respx.post(HOOK).mock(return_value=httpx.Response(200))
        assert await outbox.deliver_due() == 1
        states = [e.data["delivery"] for e in _drain(feed.queue) if e.type == "delivery"]
    assert states == ["failed", "sending", "delivered"]


def _drain(queue: Any) -> list[Any]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events
