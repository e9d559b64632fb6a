"""The hitl channel into Zendesk: comments, real attachments, link fallbacks, blocs, bursts and redeliveries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from bp_modules.hitl import HitlMessage, parse_hitl_payload
from external_adapters import EndUser, ExternalUserRequest, OpenSessionRequest, OutboundMessage, Transcript
from external_adapters.zendesk import ZendeskAdapter
from tests.adapter_kit import MEDIA
from tests.contracts.zendesk import ZendeskMockRouter

from .conftest import MEDIA_URL, WEBHOOK_URL, Built
from .fake_zendesk import FakeZendesk


async def _session(built: Built) -> tuple[str, str]:
    adapter = built.adapter
    await adapter.subscribe(WEBHOOK_URL)
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    request = OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_01", external_user_id=jane),
        options=ZendeskAdapter.parse_session_options({}),
        transcript=Transcript(text="", markdown="", html=""),
        idempotency_key="k",
    )
    return await adapter.open_session(request), jane


def _out(ticket_id: str, author: str | None, kind: str, payload: dict[str, Any], msg: str = "msg_1") -> OutboundMessage:
    message: HitlMessage = parse_hitl_payload(kind, payload)
    return OutboundMessage(external_session_id=ticket_id, author_external_id=author, message=message, bp_message_id=msg)


@pytest.fixture
async def session(build: Any, fake_zendesk: FakeZendesk, media_host: respx.MockRouter) -> tuple[Built, str, str]:
    built: Built = build()
    ticket_id, jane = await _session(built)
    return built, ticket_id, jane


async def test_text_is_a_public_comment_by_the_end_user_and_the_ack_is_the_comment_id(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id, jane = session
    comment_id = await built.adapter.send_message(_out(ticket_id, jane, "text", {"text": "hello"}))
    last = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert str(last["id"]) == comment_id
    assert (last["body"], last["public"], last["author_id"]) == ("hello", True, int(jane))


async def test_system_messages_are_authored_by_the_bot_user(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id, _ = session
    await built.adapter.send_message(_out(ticket_id, None, "text", {"text": "( The user has ended the session. )"}))
    bot_id = built.state.items["zendeskSubscription"]["bot_zendesk_user_id"]
    assert fake_zendesk.tickets[int(ticket_id)].comments[-1]["author_id"] == bot_id


@pytest.mark.parametrize(
    ("kind", "payload", "file_name", "content_type"),
    [
        ("image", {"imageUrl": f"{MEDIA_URL}/cat.png", "title": "A cat"}, "cat.png", "image/png"),
        ("audio", {"audioUrl": f"{MEDIA_URL}/song.mp3"}, "song.mp3", "audio/mpeg"),
        ("video", {"videoUrl": f"{MEDIA_URL}/clip.mp4"}, "clip.mp4", "video/mp4"),
        ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Invoice"}, "doc.pdf", "application/pdf"),
    ],
)
async def test_media_become_real_attachments(
    session: tuple[Built, str, str],
    fake_zendesk: FakeZendesk,
    zendesk_api: ZendeskMockRouter,
    media_host: respx.MockRouter,
    kind: str,
    payload: dict[str, Any],
    file_name: str,
    content_type: str,
) -> None:
    built, ticket_id, jane = session
    await built.adapter.send_message(_out(ticket_id, jane, kind, payload))
    (attachment,) = fake_zendesk.tickets[int(ticket_id)].comments[-1]["attachments"]
    assert (attachment["file_name"], attachment["content_type"]) == (file_name, content_type)
    upload = next(c.request for c in zendesk_api.calls if c.request.url.path == "/api/v2/uploads")
    assert upload.url.params["filename"] == file_name and upload.content == MEDIA["/" + file_name][1]
    assert upload.headers["content-type"] == content_type
    media_request = media_host.calls.last.request
    assert "authorization" not in media_request.headers, "Zendesk credentials must not go to media hosts"


async def test_a_failed_download_becomes_a_labelled_link(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk, media_host: respx.MockRouter
) -> None:
    built, ticket_id, jane = session
    media_host.get("/gone.png").mock(return_value=httpx.Response(404))
    await built.adapter.send_message(
        _out(ticket_id, jane, "image", {"imageUrl": f"{MEDIA_URL}/gone.png", "title": "Pic"})
    )
    last = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert last["body"] == f"[Image: Pic] {MEDIA_URL}/gone.png" and last["attachments"] == []


async def test_a_refused_upload_becomes_a_labelled_link(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk, media_host: respx.MockRouter
) -> None:
    built, ticket_id, jane = session
    fake_zendesk.fail_next.append(httpx.Response(422, json={"error": "RecordInvalid", "description": "bad file"}))
    await built.adapter.send_message(
        _out(ticket_id, jane, "file", {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Invoice"})
    )
    last = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert last["body"] == f"[File: Invoice] {MEDIA_URL}/doc.pdf" and last["attachments"] == []


async def test_an_oversized_file_becomes_a_link_without_reading_it_all(
    session: tuple[Built, str, str],
    fake_zendesk: FakeZendesk,
    media_host: respx.MockRouter,
) -> None:
    built, ticket_id, jane = session
    built.runtime.max_media_bytes = 10
    media_host.get("/big.bin").mock(return_value=httpx.Response(200, content=b"x" * 11))
    await built.adapter.send_message(_out(ticket_id, jane, "file", {"fileUrl": f"{MEDIA_URL}/big.bin"}))
    assert fake_zendesk.tickets[int(ticket_id)].comments[-1]["body"] == f"[File] {MEDIA_URL}/big.bin"


async def test_a_bloc_is_one_comment_with_all_its_items(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id, jane = session
    before = len(fake_zendesk.tickets[int(ticket_id)].comments)
    bloc = {
        "items": [
            {"type": "text", "payload": {"text": "Here is my receipt"}},
            {"type": "image", "payload": {"imageUrl": f"{MEDIA_URL}/cat.png"}},
            {"type": "markdown", "payload": {"markdown": "**urgent**"}},
            {"type": "file", "payload": {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Receipt"}},
            {"type": "location", "payload": {"latitude": 45.5, "longitude": -73.6, "title": "Shop"}},
        ]
    }
    await built.adapter.send_message(_out(ticket_id, jane, "bloc", bloc))
    comments = fake_zendesk.tickets[int(ticket_id)].comments
    assert len(comments) == before + 1
    assert comments[-1]["body"] == (
        "Here is my receipt\n\n[Image attached]\n\n**urgent**\n\n"
        "[File attached: Receipt]\n\nLocation: Shop (45.5, -73.6)"
    )
    assert [a["file_name"] for a in comments[-1]["attachments"]] == ["cat.png", "doc.pdf"]


async def test_each_comment_carries_its_message_id_and_find_message_finds_it(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id, jane = session
    sent = _out(ticket_id, jane, "text", {"text": "once"}, msg="msg_same")
    comment_id = await built.adapter.send_message(sent)
    audit = fake_zendesk.tickets[int(ticket_id)].audits[-1]
    assert audit["metadata"]["custom"] == {"hitl_bridge_messages": "msg_same"}
    assert await built.adapter.find_message(sent) == comment_id
    assert await built.adapter.find_message(_out(ticket_id, jane, "text", {"text": "once"}, msg="msg_other")) is None


async def test_find_message_on_a_ticket_that_is_gone_finds_nothing(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id, jane = session
    del fake_zendesk.tickets[int(ticket_id)]
    assert await built.adapter.find_message(_out(ticket_id, jane, "text", {"text": "x"})) is None


async def test_a_burst_behind_a_429_is_coalesced_not_dropped(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built, ticket_id, jane = session
    waited = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        built.sleeps.append(seconds)
        waited.set()
        for _ in range(20):  # let the rest of the burst queue up behind the rate-limited update
            await asyncio.sleep(0)

    built.runtime.sleep = slow_sleep
    adapter = type(built.adapter)(built.adapter.config, built.adapter.context)
    fake_zendesk.fail_next.append(httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "TooManyRequests"}))
    sends = [
        adapter.send_message(_out(ticket_id, jane, "text", {"text": f"part {i}"}, msg=f"msg_{i}")) for i in range(3)
    ]
    ids = await asyncio.gather(*sends)
    assert built.sleeps == [7.0]
    bodies = [c["body"] for c in fake_zendesk.tickets[int(ticket_id)].comments[1:]]
    assert bodies == ["part 0", "part 1\n\npart 2"]
    assert ids[1] == ids[2] != ids[0]
    custom = [audit["metadata"]["custom"] for audit in fake_zendesk.tickets[int(ticket_id)].audits[1:]]
    assert custom == [{"hitl_bridge_messages": "msg_0"}, {"hitl_bridge_messages": "msg_1 msg_2"}]
    for i in range(3):  # each message of the coalesced comment is found again by its own id
        found = await adapter.find_message(_out(ticket_id, jane, "text", {"text": "?"}, msg=f"msg_{i}"))
        assert found == ids[i]
    puts = [c for c in zendesk_api.calls if c.request.method == "PUT"]
    assert [c.response.status_code for c in puts] == [429, 200, 200]


async def test_a_comment_update_of_unknown_outcome_is_looked_up_before_it_is_repeated(
    session: tuple[Built, str, str], fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built, ticket_id, jane = session
    fake_zendesk.fail_next.append(httpx.Response(500, json={"error": "InternalError"}))  # before Zendesk stored it
    await built.adapter.send_message(_out(ticket_id, jane, "text", {"text": "maybe"}))
    methods = [c.request.method for c in zendesk_api.calls if "/tickets/" in c.request.url.path]
    assert methods[-3:] == ["PUT", "GET", "PUT"]  # the update, the audits holding no such key, the update again
    puts = [json.loads(c.request.content) for c in zendesk_api.calls if c.request.method == "PUT"]
    assert puts[-1] == puts[-2] and puts[-1]["ticket"]["comment"]["body"] == "maybe"
    assert [c["body"] for c in fake_zendesk.tickets[int(ticket_id)].comments].count("maybe") == 1
