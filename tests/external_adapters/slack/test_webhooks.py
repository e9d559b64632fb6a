"""Slack's signature, url_verification and the acknowledgement of every delivery (work and order keys)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest

from coordination import Coordinator
from external_adapters import InvalidSignatureError, WebhookRequest
from external_adapters.errors import InvalidWebhookError
from external_adapters.slack.webhooks import BlockActions, EventCallback, parse_delivery, verify_signature

from .inbound_kit import (
    CHANNEL,
    NOW,
    PARENT_TS,
    SECRET,
    SESSION_ID,
    Kit,
    click_body,
    delivery,
    event_body,
    reply,
)

# Slack's documented example (helpdesks.md §2.3): a slash command's form body.
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_TS = "1531420618"
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_documented_vector_is_accepted() -> None:
    headers = {"X-Slack-Request-Timestamp": VECTOR_TS, "X-Slack-Signature": VECTOR_SIGNATURE}
    verify_signature(SECRET, headers, VECTOR_BODY.encode(), lambda: float(VECTOR_TS) + 10)


@pytest.mark.parametrize(
    "change",
    [
        {"X-Slack-Signature": VECTOR_SIGNATURE[:-1] + "0"},
        {"X-Slack-Request-Timestamp": str(int(VECTOR_TS) + 1)},
        {"X-Slack-Request-Timestamp": "soon"},
        {"X-Slack-Signature": ""},
    ],
    ids=["forged", "other-timestamp", "unreadable-timestamp", "missing"],
)
def test_a_wrong_signature_is_refused(change: dict[str, str]) -> None:
    headers = {"X-Slack-Request-Timestamp": VECTOR_TS, "X-Slack-Signature": VECTOR_SIGNATURE, **change}
    with pytest.raises(InvalidSignatureError):
        verify_signature(SECRET, headers, VECTOR_BODY.encode(), lambda: float(VECTOR_TS))


@pytest.mark.parametrize("skew", [301.0, -301.0])
def test_a_stale_or_future_timestamp_is_refused(skew: float) -> None:
    headers = {"X-Slack-Request-Timestamp": VECTOR_TS, "X-Slack-Signature": VECTOR_SIGNATURE}
    with pytest.raises(InvalidSignatureError):
        verify_signature(SECRET, headers, VECTOR_BODY.encode(), lambda: float(VECTOR_TS) + skew)


def test_the_signature_is_checked_on_the_exact_bytes() -> None:
    body = event_body(reply("héllo ✓"))
    request = delivery(body)
    verify_signature(SECRET, request.headers, request.body_bytes, lambda: NOW)
    respaced = json.dumps(json.loads(body), indent=1)  # the same JSON, other bytes
    with pytest.raises(InvalidSignatureError):
        verify_signature(SECRET, request.headers, respaced.encode(), lambda: NOW)


@pytest.fixture
async def kit(coordinator: Coordinator) -> AsyncIterator[Kit]:
    async with httpx.AsyncClient() as http:
        yield Kit(coordinator, http, files=None)


async def test_the_adapter_verifies_with_its_signing_secret_and_clock(kit: Kit) -> None:
    adapter = kit.adapter()
    await adapter.verify_webhook(delivery(event_body(reply("hi"))))
    with pytest.raises(InvalidSignatureError):
        await adapter.verify_webhook(delivery(event_body(reply("hi")), secret="another-secret"))
    kit.clock.now = NOW + 301
    with pytest.raises(InvalidSignatureError):
        await adapter.verify_webhook(delivery(event_body(reply("hi"))))


async def test_url_verification_is_answered_with_its_challenge(kit: Kit) -> None:
    body = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    adapter = kit.adapter()
    request = delivery(body)
    await adapter.verify_webhook(request)
    ack = await adapter.acknowledge_webhook(request)
    assert ack is not None and ack.work_key is None
    assert json.loads(ack.reply.body or "") == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    parsed = await adapter.parse_webhook(request)  # without the deferred path, the same answer
    assert parsed.events == [] and json.loads(parsed.reply.body or "")["challenge"].startswith("3eZb")


async def test_an_event_is_acked_at_once_keyed_by_event_id_and_ordered_by_thread(kit: Kit) -> None:
    adapter = kit.adapter()
    first = await adapter.acknowledge_webhook(delivery(event_body(reply("hi"), "Ev42")))
    again = await adapter.acknowledge_webhook(delivery(event_body(reply("hi"), "Ev42"), retry=1))
    assert first is not None and again is not None
    assert first.work_key == again.work_key == "Ev42"
    assert first.order_key == SESSION_ID
    assert first.reply.status == 200 and not first.reply.body


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "user": "U1", "text": "hi", "ts": "1733100999.000001", "channel": CHANNEL},
        reply("echo", bot_id="B0BOT", user="U0BOT0001"),
        reply("echo", subtype="bot_message"),
        reply("edited", subtype="message_changed"),
        {"type": "reaction_added", "user": "U1", "reaction": "+1"},
    ],
    ids=["top-level", "bot_id", "bot_message", "changed", "reaction"],
)
async def test_an_event_with_no_work_is_answered_without_being_queued(kit: Kit, event: dict[str, object]) -> None:
    ack = await kit.adapter().acknowledge_webhook(delivery(event_body(event)))
    assert ack is not None and ack.work_key is None and ack.reply.status == 200


async def test_a_click_is_keyed_by_its_action_and_ordered_by_its_thread(kit: Kit) -> None:
    adapter = kit.adapter()
    first = await adapter.acknowledge_webhook(delivery(click_body("hitl_claim")))
    same = await adapter.acknowledge_webhook(delivery(click_body("hitl_claim")))
    other = await adapter.acknowledge_webhook(delivery(click_body("hitl_claim", action_ts="1733100201.000000")))
    assert first is not None and same is not None and other is not None
    assert first.work_key == same.work_key != other.work_key
    assert first.order_key == SESSION_ID == other.order_key


async def test_a_delivery_of_another_kind_is_acked_with_nothing_to_do(kit: Kit) -> None:
    ack = await kit.adapter().acknowledge_webhook(
        delivery(json.dumps({"type": "app_rate_limited", "minute_rate_limited": 1}))
    )
    assert ack is not None and ack.work_key is None and ack.reply.status == 200


def test_interactivity_is_read_from_the_form_payload() -> None:
    parsed = parse_delivery(click_body("hitl_close", user="U9"))
    assert isinstance(parsed, BlockActions)
    assert parsed.user.id == "U9" and parsed.actions[0].action_id == "hitl_close"
    assert parsed.container.message_ts == PARENT_TS


def test_unknown_fields_are_ignored_and_a_body_that_is_not_json_is_invalid() -> None:
    event = reply("hi", blocks=[{"type": "rich_text"}], client_msg_id="x", team="T")
    parsed = parse_delivery(event_body(event).replace('"event_time"', '"is_ext_shared_channel": false, "event_time"'))
    assert isinstance(parsed, EventCallback) and parsed.message() is not None
    with pytest.raises(InvalidWebhookError):
        parse_delivery("not json")
    with pytest.raises(InvalidWebhookError):
        parse_delivery(urlencode({"payload": "{nope"}))
    assert parse_delivery("[1, 2]") is None


def test_a_request_relayed_as_text_keeps_the_signed_bytes() -> None:
    request = WebhookRequest(method="POST", path="/anything", body=click_body("hitl_claim"))
    assert request.body_bytes == click_body("hitl_claim").encode()
