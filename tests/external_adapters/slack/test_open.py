"""register and startHitl on Slack: the checks of register, the parent message, the transcript within Slack's
limits, and one parent (and one of each overflow part) through lost answers and restarts."""

from __future__ import annotations

from typing import Any

import pytest

from external_adapters import EndUser, OpenSessionRequest, Transcript
from external_adapters.errors import AdapterConfigError, SessionOptionsError
from external_adapters.slack import SlackAdapter
from external_adapters.slack.blocks import MAX_BLOCKS, MAX_MESSAGE_CHARS, MAX_SECTION_CHARS
from tests.adapter_kit import INSTALLATION
from tests.contracts.lost_answers import lose_answers
from tests.contracts.slack import SlackMockRouter

from .fake_slack import CHANNEL_ID, FakeChannel, FakeSlack
from .harness import Build, Killed, after_nth, killed, message_text, read_timeout

WEBHOOK_URL = "https://bridge.example.com/webhooks/wh_01JTESTWEBHOOK"


def open_request(
    key: str = "key-1", *, markdown: str = "**User:** I need help", new_key: bool = False, **card: Any
) -> OpenSessionRequest[Any]:
    return OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_1", external_user_id="bp:user_1", name="Jane"),
        title="Refund for order #42",
        description="The customer wants a refund <now> & fast",
        options=SlackAdapter.parse_session_options(card),
        transcript=Transcript(text=markdown, markdown=markdown, html=markdown),
        idempotency_key=key,
        new_key=new_key,
    )


def calls(router: SlackMockRouter, method: str) -> int:
    return sum(1 for call in router.calls if call.request.url.path.endswith("/" + method))


def huge_transcript(sections: int = 400) -> str:
    return "\n\n".join(f"**User:** question {n} " + "lorem ipsum " * 30 for n in range(sections))


# --- register ------------------------------------------------------------------------------------------------------


async def test_register_checks_the_token_and_joins_a_public_channel(build: Build, fake_slack: FakeSlack) -> None:
    fake_slack.channels[CHANNEL_ID].is_member = False
    await build().adapter.subscribe(WEBHOOK_URL)
    assert fake_slack.channels[CHANNEL_ID].is_member


async def test_register_names_channel_id_when_the_bot_cannot_post(build: Build, fake_slack: FakeSlack) -> None:
    fake_slack.channels[CHANNEL_ID] = FakeChannel(CHANNEL_ID, "secret", is_private=True, is_member=False)
    with pytest.raises(AdapterConfigError) as caught:
        await build().adapter.subscribe(WEBHOOK_URL)
    assert caught.value.field == "channelId" and "invite" in str(caught.value)
    with pytest.raises(AdapterConfigError) as missing:
        await build(channelId="C0NOWHERE").adapter.subscribe(WEBHOOK_URL)
    assert missing.value.field == "channelId"


async def test_register_names_bot_token_when_slack_refuses_it(build: Build, fake_slack: FakeSlack) -> None:
    with pytest.raises(AdapterConfigError) as caught:
        await build(botToken="xoxb-revoked-1").adapter.subscribe(WEBHOOK_URL)
    assert caught.value.field == "botToken" and "invalid_auth" in str(caught.value)
    assert "xoxb-revoked-1" not in str(caught.value)


async def test_register_checks_the_allowed_channels_too(build: Build, fake_slack: FakeSlack) -> None:
    with pytest.raises(AdapterConfigError) as caught:
        await build(allowedChannelIds=["C0OTHER1"]).adapter.subscribe(WEBHOOK_URL)
    assert caught.value.field == "allowedChannelIds"


def test_a_custom_api_base_url_needs_the_process_setting(build: Build) -> None:
    with pytest.raises(AdapterConfigError) as caught:
        build(apiBaseUrl="http://127.0.0.1:9/api")
    assert caught.value.field == "apiBaseUrl"
    assert build(apiBaseUrl="http://127.0.0.1:9/api", allow_vendor_base_urls=True).adapter.client is not None
    assert build(apiBaseUrl="https://slack.com/api/").adapter.config.api_url == "https://slack.com/api"


async def test_create_user_makes_no_call(build: Build, slack_api: SlackMockRouter) -> None:
    from external_adapters import ExternalUserRequest

    assert await build().adapter.create_user(ExternalUserRequest(bp_user_id="u_1", name="Jane")) == "bp:u_1"
    assert slack_api.calls.call_count == 0


# --- the parent ------------------------------------------------------------------------------------------------------


async def test_the_parent_shows_the_card_the_mention_and_the_buttons(build: Build, fake_slack: FakeSlack) -> None:
    adapter = build(mention="<!here>").adapter
    session_id = await adapter.open_session(open_request(priority="high", tags=["billing", "vip"]))
    channel_id, parent_ts = session_id.split(":")
    assert channel_id == CHANNEL_ID
    parent = fake_slack.parent(session_id)
    assert parent["metadata"] == {"event_type": "hitl_bridge_session", "event_payload": {"key": "key-1"}}
    text = message_text(parent)
    assert "Refund for order #42" in text and "<!here>" in text
    assert "refund &lt;now&gt; &amp; fast" in text and "High" in text and "`billing`, `vip`" in text
    actions = next(b for b in parent["blocks"] if b["type"] == "actions")
    buttons = [(e["action_id"], e["text"]["text"], e["value"], e["style"]) for e in actions["elements"]]
    assert buttons == [("hitl_claim", "Claim", session_id, "primary"), ("hitl_close", "Close", session_id, "danger")]
    assert "confirm" in actions["elements"][1]
    stored = await adapter.context.sessions.get(session_id)
    assert stored is not None
    assert (stored["channel_id"], stored["parent_ts"], stored["claimed_by"], stored["closed"]) == (
        CHANNEL_ID,
        parent_ts,
        None,
        False,
    )


async def test_a_card_may_choose_an_allowed_channel_only(build: Build, fake_slack: FakeSlack) -> None:
    fake_slack.channels["C0VIP0001"] = FakeChannel("C0VIP0001", "vip")
    adapter = build(allowedChannelIds=["C0VIP0001"]).adapter
    session_id = await adapter.open_session(open_request(channelId="C0VIP0001"))
    assert session_id.startswith("C0VIP0001:")
    with pytest.raises(SessionOptionsError) as caught:
        await adapter.open_session(open_request("key-2", channelId="C0ELSEWHR"))
    assert caught.value.field == "channelId"
    assert len(fake_slack.posts()) == 1


async def test_link_session_records_the_conversation_without_a_call(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    adapter = build().adapter
    session_id = await adapter.open_session(open_request())
    before = slack_api.calls.call_count
    await adapter.link_session(session_id, "conv_1")
    stored = await adapter.context.sessions.get(session_id)
    assert stored is not None and stored["bp_conversation_id"] == "conv_1"
    assert slack_api.calls.call_count == before


# --- the transcript within Slack's limits ----------------------------------------------------------------------------


async def test_a_huge_transcript_goes_in_parts_each_within_slack_limits(build: Build, fake_slack: FakeSlack) -> None:
    markdown = huge_transcript()
    session_id = await build().adapter.open_session(open_request(markdown=markdown))
    posted = [fake_slack.parent(session_id), *fake_slack.thread(session_id)]
    assert len(posted) >= 4  # 400 sections of ~380 characters: the parent and several replies
    for message in posted:
        assert len(message["blocks"]) <= MAX_BLOCKS
        assert all(len(b.get("text", {}).get("text", "")) <= MAX_SECTION_CHARS for b in message["blocks"])
        assert len(message_text(message)) <= MAX_MESSAGE_CHARS
    parts = [m["metadata"]["event_payload"] for m in posted[1:]]
    assert parts == [{"key": "key-1", "part": n} for n in range(1, len(posted))]
    shown = "\n".join(message_text(m) for m in posted)
    positions = [shown.index(f"*User:* question {n} ") for n in range(400)]
    assert positions == sorted(positions)  # every section, in order


async def test_a_new_key_is_not_looked_up_and_a_resumed_one_is(
    build: Build, slack_api: SlackMockRouter, fake_slack: FakeSlack
) -> None:
    adapter = build().adapter
    await adapter.open_session(open_request("key-new", new_key=True))
    assert calls(slack_api, "conversations.history") == 0
    await adapter.open_session(open_request("key-resumed"))
    assert calls(slack_api, "conversations.history") == 1


# --- once, through lost answers and restarts -----------------------------------------------------------------------


async def test_a_lost_answer_to_the_parent_leaves_one_parent(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    lost = lose_answers(slack_api).lose("POST", r"/api/chat\.postMessage$")
    session_id = await build().adapter.open_session(open_request(new_key=True))
    assert len(lost.lost) == 1
    assert [m["ts"] for m in fake_slack.channels[CHANNEL_ID].messages] == [session_id.split(":")[1]]


async def test_a_lost_answer_to_a_transcript_part_leaves_one_of_each(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    after_nth(slack_api, "chat.postMessage", 2, read_timeout)  # the first overflow part (the parent is post 1)
    session_id = await build().adapter.open_session(open_request(markdown=huge_transcript(), new_key=True))
    parts = [m["metadata"]["event_payload"]["part"] for m in fake_slack.thread(session_id)]
    assert parts == list(range(1, len(parts) + 1)) and len(parts) >= 3


@pytest.mark.parametrize("dies_at", [1, 2, 3])
async def test_a_restart_between_two_posts_posts_nothing_twice(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter, dies_at: int
) -> None:
    after_nth(slack_api, "chat.postMessage", dies_at, killed)
    request = open_request(markdown=huge_transcript())
    with pytest.raises(Killed):
        await build().adapter.open_session(request)
    session_id = await build().adapter.open_session(request)  # a new process, the same Slack and journal
    parents = fake_slack.channels[CHANNEL_ID].messages
    assert [m["ts"] for m in parents] == [session_id.split(":")[1]]
    parts = [m["metadata"]["event_payload"]["part"] for m in fake_slack.thread(session_id)]
    assert parts == list(range(1, len(parts) + 1)) and len(parts) >= 3
    assert await build().adapter.open_session(request) == session_id
    assert len(fake_slack.posts()) == 1 + len(parts)


async def test_a_journal_started_afresh_finds_the_parent_on_slack(
    build: Build, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    from coordination import EmbeddedCoordinator

    first = await build().adapter.open_session(open_request())
    fresh = await EmbeddedCoordinator.open(tmp_path / "other")
    try:
        again = await build(coordinator=fresh).adapter.open_session(open_request())
    finally:
        await fresh.aclose()
    assert again == first and len(fake_slack.posts()) == 1


def test_the_installation_is_the_tests_one() -> None:
    assert INSTALLATION.integration_id == "intver_01JTEST"
