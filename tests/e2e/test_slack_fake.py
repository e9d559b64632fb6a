"""The fake Slack of the end-to-end tests and of ``hitl-bridge sandbox --adapter slack``, checked in-process.

Its Web API keeps Slack's conventions (HTTP 200 with ``ok: false`` errors, ``invalid_auth``, increasing ``ts``,
metadata returned only with ``include_all_metadata``, the three-step file upload, private files only with the bot
token); its faults (429 with Retry-After, a lost answer) do what they say; and what people do in it reaches the
Request URL as Slack sends it: signed, retried while unacknowledged, with ``X-Slack-Retry-Num``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import ClientConnectionError, web
from aiohttp.test_utils import TestClient, TestServer

from integration.sandbox.fake_slack import DEFAULT_AGENTS, DEFAULT_CHANNEL_ID, DeliverySettings, fake_slack_app

TOKEN = "xoxb-fake-token"
SECRET = "fake-signing-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOB, ALICE = list(DEFAULT_AGENTS)
CHANNEL = DEFAULT_CHANNEL_ID
CLAIM_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "New handoff"}},
    {"type": "actions", "block_id": "hitl", "elements": [
        {"type": "button", "action_id": "hitl_claim", "text": {"type": "plain_text", "text": "Claim"}, "value": "S1"},
    ]},
]  # fmt: skip
Fake = TestClient[web.Request, web.Application]
AiohttpClient = Callable[..., Awaitable[Fake]]
AiohttpServer = Callable[..., Awaitable[TestServer]]


@dataclass
class Receiver:
    """The app's Request URL: records each request; answers the statuses queued, then 200."""

    statuses: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200, text="ok")


@pytest.fixture
async def receiver(aiohttp_server: AiohttpServer) -> tuple[Receiver, str]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/webhook", target.handle)
    server = await aiohttp_server(app)
    return target, str(server.make_url("/webhook"))


@pytest.fixture
async def slack(aiohttp_client: AiohttpClient, receiver: tuple[Receiver, str]) -> Fake:
    settings = DeliverySettings(receiver[1], SECRET, retry_delays=(0.0, 0.0, 0.0), deadline_seconds=3.0)
    app, _ = fake_slack_app(TOKEN, settings, echo_bot_messages=False)
    return await aiohttp_client(app)


async def call(slack: Fake, method: str, **args: Any) -> dict[str, Any]:
    response = await slack.post(f"/api/{method}", json=args, headers=AUTH)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def hook(slack: Fake, name: str, **body: Any) -> dict[str, Any]:
    response = await slack.post(f"/_test/{name}", json=body)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def violations(slack: Fake) -> list[str]:
    found: list[str] = (await (await slack.get("/_test/violations")).json())["violations"]
    return found


def signed(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    base = f"v0:{headers['X-Slack-Request-Timestamp']}:".encode() + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Slack-Signature"])


async def parent(slack: Fake, **extra: Any) -> str:
    await call(slack, "conversations.join", channel=CHANNEL)
    posted = await call(slack, "chat.postMessage", channel=CHANNEL, text="New handoff", blocks=CLAIM_BLOCKS, **extra)
    assert posted["ok"] is True, posted
    return str(posted["ts"])


# --- the Web API --------------------------------------------------------------------------------------------------


async def test_errors_are_http_200_with_ok_false_and_a_wrong_token_is_invalid_auth(slack: Fake) -> None:
    no_token = await (await slack.post("/api/auth.test")).json()
    wrong = await (await slack.post("/api/auth.test", headers={"Authorization": "Bearer xoxb-wrong"})).json()
    assert (no_token, wrong) == ({"ok": False, "error": "not_authed"}, {"ok": False, "error": "invalid_auth"})
    assert (await call(slack, "auth.test"))["user_id"].startswith("U")
    assert (await call(slack, "chat.postMessage", channel=CHANNEL, text="hi"))["error"] == "not_in_channel"
    assert (await call(slack, "conversations.info", channel="CNOPE1"))["error"] == "channel_not_found"
    assert (await call(slack, "conversations.join", channel="GPRIVATE1"))["error"].startswith("method_not_supported")


async def test_threads_keep_metadata_for_readers_asking_for_it_and_ts_increase(slack: Fake) -> None:
    metadata = {"event_type": "hitl_bridge_session", "event_payload": {"key": "k1"}}
    parent_ts = await parent(slack, metadata=metadata)
    message_metadata = {"event_type": "hitl_bridge_message", "event_payload": {"bp_message_id": "m1"}}
    reply = await call(
        slack, "chat.postMessage", channel=CHANNEL, thread_ts=parent_ts, text="two", metadata=message_metadata
    )
    assert float(reply["ts"]) > float(parent_ts) and "metadata" not in reply["message"]
    plain = await (await slack.get("/api/conversations.history", params={"channel": CHANNEL}, headers=AUTH)).json()
    assert [m["ts"] for m in plain["messages"]] == [parent_ts] and "metadata" not in plain["messages"][0]
    replies = await (
        await slack.get(
            "/api/conversations.replies",
            params={"channel": CHANNEL, "ts": parent_ts, "include_all_metadata": "true"},
            headers=AUTH,
        )
    ).json()
    assert [m["ts"] for m in replies["messages"]] == [parent_ts, reply["ts"]]
    assert [m["metadata"]["event_payload"] for m in replies["messages"]] == [{"key": "k1"}, {"bp_message_id": "m1"}]
    assert replies["messages"][0]["reply_count"] == 1


async def test_a_request_breaking_slacks_limits_is_a_violation_and_refused(slack: Fake) -> None:
    await parent(slack)
    too_many = [{"type": "divider"}] * 51
    refused = await call(slack, "chat.postMessage", channel=CHANNEL, text="x", blocks=too_many)
    bad_thread = await call(slack, "chat.postMessage", channel=CHANNEL, text="x", thread_ts="12")
    assert (refused["error"], bad_thread["error"]) == ("invalid_arguments", "invalid_arguments")
    found = await violations(slack)
    assert len(found) == 2 and "blocks" in found[0] and "thread_ts" in found[1]


async def test_a_file_is_uploaded_in_three_steps_and_served_only_with_the_token(slack: Fake) -> None:
    parent_ts = await parent(slack)
    form = {"filename": "cat.png", "length": "9"}
    ticket = await (await slack.post("/api/files.getUploadURLExternal", data=form, headers=AUTH)).json()
    upload_path = ticket["upload_url"].removeprefix(str(slack.make_url("")).rstrip("/"))
    assert (await slack.post(upload_path, data=b"cat bytes")).status == 200
    files = json.dumps([{"id": ticket["file_id"], "title": "Receipt"}])
    done = await (
        await slack.post(
            "/api/files.completeUploadExternal",
            data={"files": files, "channel_id": CHANNEL, "thread_ts": parent_ts},
            headers=AUTH,
        )
    ).json()
    (shared,) = done["files"]
    assert (shared["title"], shared["mimetype"], shared["size"]) == ("Receipt", "image/png", 9)
    share_ts = shared["shares"]["public"][CHANNEL][0]["ts"]
    thread = (await (await slack.get("/_test/thread", params={"channel": CHANNEL, "ts": parent_ts})).json())["messages"]
    assert [m["ts"] for m in thread] == [parent_ts, share_ts] and thread[1]["files"][0]["id"] == ticket["file_id"]
    file_path = shared["url_private"].removeprefix(str(slack.make_url("")).rstrip("/"))
    anonymous = await slack.get(file_path, allow_redirects=False)
    with_token = await slack.get(file_path, headers=AUTH)
    assert (anonymous.status, with_token.status, await with_token.read()) == (302, 200, b"cat bytes")


async def test_an_injected_429_carries_retry_after_and_then_the_method_answers(slack: Fake) -> None:
    await hook(slack, "rate_limit", method="auth.test", count=1, retry_after=2)
    limited = await slack.post("/api/auth.test", headers=AUTH)
    assert (limited.status, limited.headers["Retry-After"]) == (429, "2")
    assert (await call(slack, "auth.test"))["ok"] is True
    assert (await (await slack.get("/_test/calls")).json())["calls"] == {"auth.test": 2}


async def test_a_dropped_answer_is_lost_after_the_call_is_done(slack: Fake) -> None:
    await call(slack, "conversations.join", channel=CHANNEL)
    await hook(slack, "drop", method="chat.postMessage")
    with pytest.raises(ClientConnectionError):
        await (await slack.post("/api/chat.postMessage", json={"channel": CHANNEL, "text": "hi"}, headers=AUTH)).read()
    channel = await (await slack.get("/_test/channel", params={"channel": CHANNEL})).json()
    assert [m["text"] for m in channel["messages"]] == ["hi"]


# --- people acting, and the deliveries --------------------------------------------------------------------------


async def test_an_agent_reply_is_a_signed_message_event_with_a_unique_event_id(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    first = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="Hi <@UAGENTALI>")
    await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="again")
    (headers, body), (_, second) = receiver[0].received
    assert signed(headers, body) and headers["Content-Type"] == "application/json"
    event = json.loads(body)
    assert (event["type"], event["event"]["type"], event["event"]["user"]) == ("event_callback", "message", BOB)
    assert (event["event"]["thread_ts"], event["event"]["channel"]) == (parent_ts, CHANNEL)
    assert "bot_id" not in event["event"] and event["event_id"] != json.loads(second)["event_id"]
    assert first["deliveries"][0]["answers"][0]["status"] == 200


async def test_an_agent_file_is_a_file_share_event_whose_url_needs_the_token(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    content = base64.b64encode(b"%PDF-1.4 fake").decode()
    await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="here",
               file={"name": "refund.pdf", "content_base64": content})  # fmt: skip
    event = json.loads(receiver[0].received[0][1])["event"]
    assert event["subtype"] == "file_share"
    (file,) = event["files"]
    path = file["url_private"].removeprefix(str(slack.make_url("")).rstrip("/"))
    served = await slack.get(path, headers=AUTH)
    assert (file["mimetype"], served.content_type, await served.read()) == (
        "application/pdf",
        "application/pdf",
        b"%PDF-1.4 fake",
    )


async def test_a_click_is_a_signed_block_actions_form_with_the_buttons_value(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    await hook(slack, "click", channel=CHANNEL, ts=parent_ts, user=ALICE, action_id="hitl_claim")
    headers, body = receiver[0].received[0]
    assert signed(headers, body) and headers["Content-Type"] == "application/x-www-form-urlencoded"
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert (payload["type"], payload["user"]["id"], payload["container"]["message_ts"]) == (
        "block_actions",
        ALICE,
        parent_ts,
    )
    assert [(a["action_id"], a["value"]) for a in payload["actions"]] == [("hitl_claim", "S1")]
    missing = await slack.post("/_test/click", json={"channel": CHANNEL, "ts": parent_ts, "user": ALICE,
                                                     "action_id": "hitl_close"})  # fmt: skip
    assert missing.status == 404


async def test_an_unacknowledged_delivery_is_retried_with_its_number_and_reason(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    receiver[0].statuses.extend([500, 503])
    answer = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="hello?")
    assert [a["status"] for a in answer["deliveries"][0]["answers"]] == [500, 503, 200]
    sent = receiver[0].received
    assert [h.get("X-Slack-Retry-Num") for h, _ in sent] == [None, "1", "2"]
    assert {h.get("X-Slack-Retry-Reason") for h, _ in sent[1:]} == {"http_error"}
    assert len({body for _, body in sent}) == 1 and all(signed(h, b) for h, b in sent)


async def test_a_slow_answer_counts_as_a_timeout_and_is_retried(slack: Fake, receiver: tuple[Receiver, str]) -> None:
    parent_ts = await parent(slack)
    await hook(slack, "config", deadline_seconds=0.2)
    receiver[0].delays.append(1.0)
    answer = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="slow")
    assert [a["status"] for a in answer["deliveries"][0]["answers"]] == [None, 200]
    assert receiver[0].received[1][0]["X-Slack-Retry-Reason"] == "http_timeout"


async def test_a_forged_delivery_fails_the_signature_and_is_not_retried(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    receiver[0].statuses.append(401)
    answer = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="x", forged=True)
    assert [a["status"] for a in answer["deliveries"][0]["answers"]] == [401]
    headers, body = receiver[0].received[0]
    assert not signed(headers, body)


async def test_redeliver_sends_the_same_body_as_the_next_retry(slack: Fake, receiver: tuple[Receiver, str]) -> None:
    parent_ts = await parent(slack)
    first = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="once")
    await hook(slack, "redeliver", delivery=first["deliveries"][0]["id"])
    (_, body), (headers, again) = receiver[0].received
    assert again == body and headers["X-Slack-Retry-Num"] == "1" and signed(headers, again)


async def test_url_verification_sends_the_challenge(slack: Fake, receiver: tuple[Receiver, str]) -> None:
    await hook(slack, "url_verification", challenge="abc123")
    headers, body = receiver[0].received[0]
    assert json.loads(body) == {"token": json.loads(body)["token"], "challenge": "abc123", "type": "url_verification"}
    assert signed(headers, body)


async def test_what_the_bot_posts_comes_back_as_an_event_with_its_bot_id(
    aiohttp_client: AiohttpClient, receiver: tuple[Receiver, str]
) -> None:
    app, fake = fake_slack_app(TOKEN, DeliverySettings(receiver[1], SECRET, retry_delays=()))
    slack = await aiohttp_client(app)
    parent_ts = await parent(slack)
    while fake.background:
        await asyncio.gather(*fake.background)
    events = [json.loads(body)["event"] for _, body in receiver[0].received]
    assert [(e["ts"], bool(e.get("bot_id"))) for e in events] == [(parent_ts, True)]


# --- the agent's page -----------------------------------------------------------------------------------------


async def test_the_page_shows_threads_and_its_forms_act_as_the_hooks_do(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    shown = await (await slack.get("/")).text()
    assert "New handoff" in shown and ">Claim</button>" in shown and "Bob Agent" in shown
    clicked = await slack.post("/page/click", data={"ts": parent_ts, "user": BOB, "action_id": "hitl_claim"},
                               allow_redirects=False)  # fmt: skip
    replied = await slack.post(
        "/page/reply", data={"ts": parent_ts, "user": BOB, "text": "On it"}, allow_redirects=False
    )
    assert (clicked.status, replied.status) == (303, 303)
    kinds = [headers["Content-Type"] for headers, _ in receiver[0].received]
    assert kinds == ["application/x-www-form-urlencoded", "application/json"]
    assert json.loads(receiver[0].received[1][1])["event"]["text"] == "On it"
    assert "On it" in await (await slack.get("/")).text()


# --- the process's contract checks (tests/e2e/slack_server.py) ----------------------------------------------------


async def test_the_process_checks_requests_and_answers_against_the_slack_contracts(
    aiohttp_client: AiohttpClient, receiver: tuple[Receiver, str]
) -> None:
    from .slack_server import app

    checked = await aiohttp_client(app(TOKEN, DeliverySettings(receiver[1], SECRET, retry_delays=())))
    await call(checked, "conversations.join", channel=CHANNEL)
    assert (await call(checked, "chat.postMessage", channel=CHANNEL, text="fine"))["ok"] is True
    ticket = await (await checked.post("/api/files.getUploadURLExternal", data={"filename": "a.png", "length": "3"},
                                       headers=AUTH)).json()  # fmt: skip
    assert ticket["ok"] is True and await violations(checked) == []  # its own loopback upload URL is no violation
    await call(checked, "chat.postMessage", channel=CHANNEL, text="x", unfurl_everything=True)
    (found,) = await violations(checked)
    assert "chat.postMessage" in found and "unfurl_everything" in found


async def test_a_request_url_nobody_answers_is_retried_three_times_as_connection_failed(slack: Fake) -> None:
    from tests.live import free_port

    parent_ts = await parent(slack)
    await hook(slack, "config", request_url=f"http://127.0.0.1:{free_port()}/webhook")
    answer = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="anyone?")
    answers = answer["deliveries"][0]["answers"]
    assert [(a["status"], a["reason"]) for a in answers] == [(None, "connection_failed")] * 4


async def test_late_answers_count_as_timeouts_so_work_done_is_delivered_again(
    slack: Fake, receiver: tuple[Receiver, str]
) -> None:
    parent_ts = await parent(slack)
    await hook(slack, "config", late_answers=2)
    answer = await hook(slack, "reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB, text="twice late")
    assert [(a["status"], a["acknowledged"]) for a in answer["deliveries"][0]["answers"]] == [(200, False)] * 2 + [
        (200, True)
    ]
    assert [h.get("X-Slack-Retry-Num") for h, _ in receiver[0].received] == [None, "1", "2"]
    assert {h.get("X-Slack-Retry-Reason") for h, _ in receiver[0].received[1:]} == {"http_timeout"}
