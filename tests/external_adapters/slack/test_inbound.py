"""Agents' replies and the Claim and Close buttons as neutral events (parse_webhook, webhook_applied)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from bp_modules.hitl import HitlText
from coordination import Coordinator
from external_adapters import WebhookResult
from external_adapters.events import AgentAssigned, AgentMessage, SessionClosed
from external_adapters.slack.subscription import identity_key
from tests.contracts.slack import SlackMockRouter

from .inbound_kit import (
    ALICE,
    BOB,
    BOT_USER,
    CHANNEL,
    PARENT_TS,
    SESSION_ID,
    Kit,
    click_body,
    delivery,
    event_body,
    mock_ephemeral,
    mock_update,
    mock_users,
    reply,
    sent_json,
)

NAMES = {ALICE: "Alice Martin", BOB: "Bob Builder"}


@pytest.fixture
def slack(slack_api: SlackMockRouter) -> SlackMockRouter:
    """Slack's Web API, every request and mocked answer checked against its contract (tests/contracts/slack)."""
    return slack_api


@pytest.fixture
async def kit(coordinator: Coordinator, slack: respx.MockRouter) -> AsyncIterator[Kit]:
    async with httpx.AsyncClient() as http:
        made = Kit(coordinator, http, files=None)
        await made.open_session(title="Refund please")
        yield made


async def _parse(kit: Kit, body: str) -> WebhookResult:
    return await kit.adapter().parse_webhook(delivery(body))


async def test_the_first_reply_claims_the_thread_then_speaks(kit: Kit, slack: respx.MockRouter) -> None:
    users, update = mock_users(slack, NAMES), mock_update(slack)
    result = await _parse(kit, event_body(reply("Hello, *I* can help"), "Ev1"))
    assigned, said = result.events
    assert isinstance(assigned, AgentAssigned) and assigned.dedupe_key == f"claim:{ALICE}"
    assert assigned.agent.name == "Alice Martin" and assigned.agent.external_user_id == ALICE
    assert assigned.agent.picture_url == f"https://avatars.slack-edge.com/{ALICE}_192.png"
    assert isinstance(said, AgentMessage) and said.external_session_id == SESSION_ID
    assert said.message == HitlText(text="Hello, **I** can help")
    assert (said.external_message_id, said.dedupe_key) == ("1733100100.000200", "Ev1")
    record = await kit.record()
    assert record is not None and (record["claimed_by"], record["claimed_by_name"]) == (ALICE, "Alice Martin")
    assert not update.called  # the parent is edited once the events are applied
    await kit.adapter().webhook_applied(result)
    edited = sent_json(update)
    assert (edited["channel"], edited["ts"]) == (CHANNEL, PARENT_TS)
    assert "Claimed by Alice Martin" in str(edited["blocks"])
    assert users.call_count == 1


async def test_later_replies_only_speak_and_profiles_are_cached(kit: Kit, slack: respx.MockRouter) -> None:
    users = mock_users(slack, NAMES)
    await _parse(kit, event_body(reply("one"), "Ev1"))
    second = await _parse(kit, event_body(reply("two", ts="1733100101.000000"), "Ev2"))
    bob = await _parse(kit, event_body(reply("three", user=BOB, ts="1733100102.000000"), "Ev3"))
    assert [type(event) for event in second.events] == [AgentMessage]
    assert second.checkpoint is None
    assert [event.agent.name for event in bob.events if isinstance(event, AgentMessage)] == ["Bob Builder"]
    assert users.call_count == 2  # Alice once, Bob once


async def test_mentions_show_names(kit: Kit, slack: respx.MockRouter) -> None:
    mock_users(slack, NAMES)
    result = await _parse(kit, event_body(reply(f"<@{BOB}> can you check <https://x.example/o/1|order 1>?")))
    said = result.events[-1]
    assert isinstance(said, AgentMessage)
    assert said.message == HitlText(text="@Bob Builder can you check [order 1](https://x.example/o/1)?")


@pytest.mark.parametrize(
    "event",
    [
        reply("echo", bot_id="B0BOT"),
        reply("echo", subtype="bot_message"),
        reply("echo", user=BOT_USER),
        {"type": "message", "user": ALICE, "text": "top level", "ts": PARENT_TS, "channel": CHANNEL},
        {
            "type": "message",
            "user": ALICE,
            "text": "parent itself",
            "ts": PARENT_TS,
            "thread_ts": PARENT_TS,
            "channel": CHANNEL,
        },
        reply("other thread", thread_ts="1733000000.000001"),
        reply("other channel", channel="C0OTHER"),
        reply("edited", subtype="message_changed"),
        reply("gone", subtype="message_deleted"),
        reply("joined", subtype="channel_join"),
        {"type": "reaction_added", "user": ALICE, "reaction": "+1"},
    ],
    ids=[
        "bot_id",
        "bot_message",
        "bot-user",
        "top-level",
        "parent",
        "other-thread",
        "other-channel",
        "changed",
        "deleted",
        "join",
        "reaction",
    ],
)
async def test_what_is_not_an_agent_reply_in_a_handoff_creates_nothing(
    kit: Kit, slack: respx.MockRouter, event: dict[str, Any]
) -> None:
    result = await _parse(kit, event_body(event))
    assert result.events == [] and result.checkpoint is None
    assert not slack.calls  # not even users.info


async def test_the_bot_user_remembered_at_register_is_ignored(kit: Kit, slack: respx.MockRouter) -> None:
    await kit.coordinator.memo_set(identity_key("intver_01JSLACK"), '{"user_id": "U0OTHERBOT", "bot_id": "B9"}', 60)
    body = event_body(reply("echo", user="U0OTHERBOT")).replace('"is_bot": true', '"is_bot": false')
    assert (await _parse(kit, body)).events == []


async def test_a_reply_in_a_closed_thread_creates_nothing_and_tells_the_agent(
    kit: Kit, slack: respx.MockRouter
) -> None:
    mock_users(slack, NAMES)
    ephemeral = mock_ephemeral(slack)
    await kit.open_session(closed=True)
    result = await _parse(kit, event_body(reply("anyone?")))
    assert result.events == []
    sent = sent_json(ephemeral)
    assert sent == {"channel": CHANNEL, "user": ALICE, "text": "This conversation is closed.", "thread_ts": PARENT_TS}


async def test_two_clicks_racing_give_one_claim_and_tell_the_other(kit: Kit, slack: respx.MockRouter) -> None:
    mock_users(slack, NAMES)
    ephemeral, update = mock_ephemeral(slack), mock_update(slack)
    alice, bob = await asyncio.gather(
        _parse(kit, click_body("hitl_claim", ALICE, "1733100200.000001")),
        _parse(kit, click_body("hitl_claim", BOB, "1733100200.000002")),
    )
    winners = [r for r in (alice, bob) if r.events]
    assert len(winners) == 1
    (assigned,) = winners[0].events
    assert isinstance(assigned, AgentAssigned)
    loser = BOB if assigned.agent.external_user_id == ALICE else ALICE
    notice = sent_json(ephemeral)
    assert (
        notice["user"] == loser and notice["text"] == f"{NAMES[assigned.agent.external_user_id]} has this conversation."
    )
    await kit.adapter().webhook_applied(winners[0])
    assert "Claimed by" in str(sent_json(update)["blocks"])


async def test_a_click_parsed_again_emits_the_same_claim(kit: Kit, slack: respx.MockRouter) -> None:
    mock_users(slack, NAMES)
    ephemeral = mock_ephemeral(slack)
    first = await _parse(kit, click_body("hitl_claim"))
    again = await _parse(kit, click_body("hitl_claim"))  # a crash after the claim, before the events were applied
    assert first.events == again.events and len(first.events) == 1
    later = await _parse(kit, click_body("hitl_claim", action_ts="1733100299.000000"))
    assert later.events == [] and not ephemeral.called  # the holder clicking again is not told about themself


async def test_close_emits_stopped_once_and_the_parent_loses_its_buttons(kit: Kit, slack: respx.MockRouter) -> None:
    mock_users(slack, NAMES)
    update, ephemeral = mock_update(slack), mock_ephemeral(slack)
    closed = await _parse(kit, click_body("hitl_close"))
    (event,) = closed.events
    assert isinstance(event, SessionClosed) and event.dedupe_key == "close"
    await kit.adapter().webhook_applied(closed)
    blocks = str(sent_json(update)["blocks"])
    assert "Closed" in blocks and "hitl_close" not in blocks and "hitl_claim" not in blocks
    twice = await _parse(kit, click_body("hitl_close", BOB, "1733100300.000000"))
    assert twice.events == [] and twice.checkpoint is None
    claim = await _parse(kit, click_body("hitl_claim", BOB, "1733100301.000000"))
    assert claim.events == [] and sent_json(ephemeral)["text"] == "This conversation is closed."


async def test_clicks_on_a_foreign_message_or_element_create_nothing(kit: Kit, slack: respx.MockRouter) -> None:
    assert (await _parse(kit, click_body("some_other_button"))).events == []
    foreign = click_body("hitl_claim").replace(PARENT_TS, "1700000000.000009")
    assert (await _parse(kit, foreign)).events == []
    assert not slack.calls


async def test_an_unknown_agent_still_speaks_under_their_id(kit: Kit, slack: respx.MockRouter) -> None:
    mock_users(slack, {})
    result = await _parse(kit, event_body(reply("hi", user="U0GHOST01")))
    said = result.events[-1]
    assert isinstance(said, AgentMessage) and said.agent.external_user_id == "U0GHOST01" and said.agent.name is None
