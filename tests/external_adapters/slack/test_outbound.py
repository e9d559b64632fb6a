"""End-user messages into the thread and stopHitl: what Slack shows, the author, and each part posted once
through lost answers, crashes and partial deliveries."""

from __future__ import annotations

from typing import Any

import pytest

from bp_modules.hitl import HitlMessage, HitlText, parse_hitl_payload
from external_adapters import AuthorDisplay, OutboundMessage
from external_adapters.errors import ExternalNotFoundError
from external_adapters.slack.threads import CLOSED_NOTICE
from tests.adapter_kit import MEDIA_URL
from tests.contracts.lost_answers import lose_answers
from tests.contracts.slack import SlackMockRouter

from .fake_slack import CHANNEL_ID, FakeSlack
from .harness import Build, Built, Killed, after_nth, killed, message_text, read_timeout
from .test_open import open_request

JANE = AuthorDisplay(name="Jane Doe", picture_url="https://cdn.example.com/jane.png")


def outbound(session_id: str, message: HitlMessage, bp_message_id: str = "msg_1", **kw: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"author_external_id": "bp:user_1", "author": JANE, **kw}
    return OutboundMessage(external_session_id=session_id, message=message, bp_message_id=bp_message_id, **fields)


def bloc(*items: tuple[str, dict[str, Any]]) -> HitlMessage:
    return parse_hitl_payload("bloc", {"items": [{"type": kind, "payload": payload} for kind, payload in items]})


@pytest.fixture
async def opened(build: Build, fake_slack: FakeSlack, media_host: Any) -> tuple[Built, str]:
    built = build()
    return built, await built.adapter.open_session(open_request(new_key=True))


async def test_text_becomes_a_thread_reply_in_mrkdwn_under_the_end_users_name(
    opened: tuple[Built, str], fake_slack: FakeSlack
) -> None:
    built, session_id = opened
    ts = await built.adapter.send_message(
        outbound(session_id, HitlText(text="**Hi** <!channel> [docs](https://d.example.com)"))
    )
    [reply] = fake_slack.thread(session_id)
    assert reply["ts"] == ts and reply["thread_ts"] == session_id.split(":")[1]
    assert reply["blocks"][0]["text"]["text"] == "*Hi* &lt;!channel&gt; <https://d.example.com|docs>"
    assert (reply["username"], reply["icon_url"]) == ("Jane Doe", "https://cdn.example.com/jane.png")
    assert reply["metadata"] == {
        "event_type": "hitl_bridge_message",
        "event_payload": {"bp_message_id": "msg_1", "part": 0},
    }


async def test_without_post_as_end_user_the_bot_posts_with_an_author_line(build: Build, fake_slack: FakeSlack) -> None:
    adapter = build(postAsEndUser=False).adapter
    session_id = await adapter.open_session(open_request(new_key=True))
    await adapter.send_message(outbound(session_id, HitlText(text="hello")))
    [reply] = fake_slack.thread(session_id)
    assert "username" not in reply and reply["blocks"][0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "*Jane Doe*"}],
    }


async def test_a_system_message_or_an_unknown_author_posts_as_the_bot(
    opened: tuple[Built, str], fake_slack: FakeSlack
) -> None:
    built, session_id = opened
    await built.adapter.send_message(outbound(session_id, HitlText(text="a"), "m1", author_external_id=None))
    await built.adapter.send_message(outbound(session_id, HitlText(text="b"), "m2", author=None))
    assert all("username" not in m and "icon_url" not in m for m in fake_slack.thread(session_id))


@pytest.mark.parametrize(
    ("kind", "payload", "name", "comment"),
    [
        ("image", {"imageUrl": f"{MEDIA_URL}/cat.png", "title": "A cat"}, "cat.png", "Jane Doe sent an image: A cat"),
        ("audio", {"audioUrl": f"{MEDIA_URL}/song.mp3"}, "song.mp3", "Jane Doe sent an audio"),
        ("video", {"videoUrl": f"{MEDIA_URL}/clip.mp4"}, "clip.mp4", "Jane Doe sent a video"),
        ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf", "title": "Invoice"}, "doc.pdf", "Jane Doe sent a file: Invoice"),
    ],
)
async def test_media_are_uploaded_as_real_files_in_the_thread(
    opened: tuple[Built, str], fake_slack: FakeSlack, kind: str, payload: dict[str, Any], name: str, comment: str
) -> None:
    built, session_id = opened
    ts = await built.adapter.send_message(outbound(session_id, parse_hitl_payload(kind, payload)))
    [reply] = fake_slack.thread(session_id)
    assert reply["ts"] == ts and reply["text"] == comment
    [shared] = reply["files"]
    assert shared["name"] == name and fake_slack.files[shared["id"]]["bytes"].startswith(
        (b"\x89PNG", b"ID3", b"fake", b"%PDF")
    )


async def test_a_bloc_is_one_message_then_its_files(opened: tuple[Built, str], fake_slack: FakeSlack) -> None:
    built, session_id = opened
    message = bloc(
        ("text", {"text": "Here is <my> cat"}),
        ("image", {"imageUrl": f"{MEDIA_URL}/cat.png"}),
        ("markdown", {"markdown": "**and** a bill"}),
        ("location", {"latitude": 1.5, "longitude": 2, "title": "Home"}),
        ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf"}),
    )
    ts = await built.adapter.send_message(outbound(session_id, message))
    text, image, pdf = fake_slack.thread(session_id)
    assert text["ts"] == ts
    assert [b["text"]["text"] for b in text["blocks"]] == [
        "Here is &lt;my&gt; cat",
        "*and* a bill",
        "Location: Home (1.5, 2.0)",
    ]
    assert [image["files"][0]["name"], pdf["files"][0]["name"]] == ["cat.png", "doc.pdf"]
    assert await built.adapter.find_message(outbound(session_id, message)) == ts


async def test_a_file_over_the_cap_or_unreachable_goes_as_a_link(
    opened: tuple[Built, str], fake_slack: FakeSlack
) -> None:
    built, session_id = opened
    built.runtime.max_media_bytes = 4
    image = parse_hitl_payload("image", {"imageUrl": f"{MEDIA_URL}/cat.png", "title": "A cat"})
    private = parse_hitl_payload("file", {"fileUrl": "http://10.0.0.1/secret.pdf"})
    await built.adapter.send_message(outbound(session_id, image, "m1"))
    await built.adapter.send_message(outbound(session_id, private, "m2"))
    first, second = fake_slack.thread(session_id)
    assert "files" not in first and f"Image: <{MEDIA_URL}/cat.png|A cat>" in message_text(first)
    assert "File: <http://10.0.0.1/secret.pdf|file>" in message_text(second) and fake_slack.files == {}


async def test_a_long_text_is_split_within_slack_limits(opened: tuple[Built, str], fake_slack: FakeSlack) -> None:
    built, session_id = opened
    text = "\n\n".join(f"paragraph {n} " + "word " * 500 for n in range(40))  # ~100,000 characters
    await built.adapter.send_message(outbound(session_id, HitlText(text=text)))
    replies = fake_slack.thread(session_id)
    assert len(replies) == 3 and [r["metadata"]["event_payload"]["part"] for r in replies] == [0, 1, 2]
    assert all(len(message_text(r)) <= 40_000 and len(r["blocks"]) <= 50 for r in replies)


async def test_messages_of_one_thread_keep_their_order(opened: tuple[Built, str], fake_slack: FakeSlack) -> None:
    built, session_id = opened
    for n in range(8):
        await built.adapter.send_message(outbound(session_id, HitlText(text=f"message {n}"), f"m{n}"))
    assert [r["blocks"][0]["text"]["text"] for r in fake_slack.thread(session_id)] == [f"message {n}" for n in range(8)]


async def test_a_rate_limited_post_waits_and_posts_once(opened: tuple[Built, str], fake_slack: FakeSlack) -> None:
    built, session_id = opened
    fake_slack.limit("chat.postMessage", retry_after=3)
    await built.adapter.send_message(outbound(session_id, HitlText(text="hello")))
    assert built.sleeps == [3.0] and len(fake_slack.thread(session_id)) == 1


# --- once ------------------------------------------------------------------------------------------------------------


async def test_a_lost_answer_to_a_text_post_is_found_not_repeated(
    opened: tuple[Built, str], fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    built, session_id = opened
    lose_answers(slack_api).lose("POST", r"/api/chat\.postMessage$")
    ts = await built.adapter.send_message(outbound(session_id, HitlText(text="hello")))
    assert [r["ts"] for r in fake_slack.thread(session_id)] == [ts]


async def test_a_lost_answer_to_a_file_share_is_found_not_repeated(
    opened: tuple[Built, str], fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    built, session_id = opened
    after_nth(slack_api, "files.completeUploadExternal", 1, read_timeout)
    image = parse_hitl_payload("image", {"imageUrl": f"{MEDIA_URL}/cat.png"})
    ts = await built.adapter.send_message(outbound(session_id, image))
    assert [r["ts"] for r in fake_slack.thread(session_id)] == [ts] and len(fake_slack.files) == 1


@pytest.mark.parametrize("method", ["chat.postMessage", "files.completeUploadExternal"])
async def test_a_crash_after_slack_stored_a_part_then_a_resend_posts_only_the_rest(
    build: Build, opened: tuple[Built, str], fake_slack: FakeSlack, slack_api: SlackMockRouter, method: str
) -> None:
    built, session_id = opened
    message = bloc(
        ("text", {"text": "see"}),
        ("image", {"imageUrl": f"{MEDIA_URL}/cat.png"}),
        ("file", {"fileUrl": f"{MEDIA_URL}/doc.pdf"}),
    )
    after_nth(slack_api, method, 1, killed)
    with pytest.raises(Killed):
        await built.adapter.send_message(outbound(session_id, message))
    restarted = build().adapter
    assert await restarted.find_message(outbound(session_id, message)) is None  # not every part is there
    ts = await restarted.send_message(outbound(session_id, message))
    replies = fake_slack.thread(session_id)
    assert [("files" in r) for r in replies] == [False, True, True] and replies[0]["ts"] == ts
    assert await build().adapter.find_message(outbound(session_id, message)) == ts


async def test_a_file_shared_later_is_found_by_its_file_id(opened: tuple[Built, str], fake_slack: FakeSlack) -> None:
    built, session_id = opened
    fake_slack.share_later = True
    image = parse_hitl_payload("image", {"imageUrl": f"{MEDIA_URL}/cat.png"})
    ts = await built.adapter.send_message(outbound(session_id, image))
    assert ts == fake_slack.thread(session_id)[0]["ts"]
    assert await built.adapter.find_message(outbound(session_id, image)) == ts


async def test_find_message_is_none_for_a_thread_that_is_gone_or_not_ours(opened: tuple[Built, str]) -> None:
    built, _ = opened
    assert await built.adapter.find_message(outbound(f"{CHANNEL_ID}:1.000001", HitlText(text="x"))) is None
    assert await built.adapter.find_message(outbound("12345", HitlText(text="x"))) is None
    with pytest.raises(ExternalNotFoundError):
        await built.adapter.send_message(outbound("12345", HitlText(text="x")))


# --- stopHitl --------------------------------------------------------------------------------------------------------


async def test_close_posts_the_notice_once_and_shows_the_parent_closed(
    opened: tuple[Built, str], fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    built, session_id = opened
    lose_answers(slack_api).lose("POST", r"/api/chat\.postMessage$")
    await built.adapter.close_session(session_id)
    await built.adapter.close_session(session_id)
    [notice] = fake_slack.thread(session_id)
    assert CLOSED_NOTICE in message_text(notice)
    parent = fake_slack.parent(session_id)
    assert "Closed" in message_text(parent) and not any(b["type"] == "actions" for b in parent["blocks"])
    stored = await built.adapter.context.sessions.get(session_id)
    assert stored is not None and stored["closed"] is True


async def test_a_crash_after_the_notice_then_close_again_finishes_without_a_second_notice(
    build: Build, opened: tuple[Built, str], fake_slack: FakeSlack, slack_api: SlackMockRouter
) -> None:
    built, session_id = opened
    after_nth(slack_api, "chat.postMessage", 1, killed)
    with pytest.raises(Killed):
        await built.adapter.close_session(session_id)
    await build().adapter.close_session(session_id)
    assert len(fake_slack.thread(session_id)) == 1
    assert "Closed" in message_text(fake_slack.parent(session_id))


async def test_closing_a_missing_or_foreign_session_is_a_no_op(
    opened: tuple[Built, str], slack_api: SlackMockRouter
) -> None:
    built, _ = opened
    before = slack_api.calls.call_count
    await built.adapter.close_session(f"{CHANNEL_ID}:1.000001")
    await built.adapter.close_session("12345")
    assert slack_api.calls.call_count == before
