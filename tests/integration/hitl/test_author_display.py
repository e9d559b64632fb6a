"""``OutboundMessage.author``: the adapter gets the end user's name and picture, with no upstream call for them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import AuthorDisplay
from tests.factories import message_created_body
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeDesk
from tests.integration.hitl.test_flow import action, call
from tests.memos import forget_end_user

Client = TestClient[web.Request, web.Application]
PICTURE = "https://pictures.example/jane.png"


async def _session(client: Client, fake_botpress: FakeBotpress) -> tuple[str, str, str]:
    """createUser (with a picture) + startHitl; returns (end user, bp conversation id, desk session id)."""
    user_id = (await action(client, "createUser", {"name": "Jane", "email": "j@example.com", "pictureUrl": PICTURE}))[
        "userId"
    ]
    output = await action(client, "startHitl", {"userId": user_id, "title": "Help", "messageHistory": []})
    conversation_id = output["conversationId"]
    return user_id, conversation_id, fake_botpress.conversations[conversation_id]["tags"]["id"]


def _message(
    bp: FakeBotpress, conversation_id: str, session_id: str, payload: dict[str, Any], n: int = 0, **user: Any
) -> str:
    """A message_created body the fake Botpress holds; ``user`` changes the fields of the message's user."""
    body = json.loads(
        message_created_body(
            bp_conversation_id=conversation_id,
            external_session_id=session_id,
            bp_message_id=f"msg_01JAUTHOR{n:018d}",
            message_type="text",
            payload=payload,
        )
    )
    body["user"].update(user)
    bp.seed_bot_message(body)
    return json.dumps(body)


async def _user_reads(bp_api: Any, since: int) -> int:
    return sum(1 for c in bp_api.calls[since:] if c.request.method == "GET" and "/users/" in c.request.url.path)


async def test_the_end_users_name_and_picture_come_from_what_create_user_left(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress, bp_api: Any
) -> None:
    user_id, conversation_id, session_id = await _session(client, fake_botpress)
    before = len(bp_api.calls)
    body = _message(fake_botpress, conversation_id, session_id, {"text": "hello", "userId": user_id})
    assert await call(client, "message_created", body) == (200, {})
    (sent,) = desk.sent
    assert sent.author == AuthorDisplay(name="Jane", picture_url=PICTURE)
    assert await _user_reads(bp_api, before) == 1  # the author id's own read, as before: none for the display


async def test_a_sender_that_is_the_author_gives_its_own_name_and_picture(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    user_id, conversation_id, session_id = await _session(client, fake_botpress)
    await forget_end_user(client.app, user_id)  # so the display can only come from the message's user
    tags = fake_botpress.users[user_id]["tags"]
    body = _message(
        fake_botpress,
        conversation_id,
        session_id,
        {"text": "hi"},
        id=user_id,
        tags=tags,
        name="Jane D.",
        pictureUrl=PICTURE,
    )
    assert await call(client, "message_created", body) == (200, {})
    (sent,) = desk.sent
    assert sent.author == AuthorDisplay(name="Jane D.", picture_url=PICTURE)


async def test_a_system_message_has_no_author_display(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    _, conversation_id, session_id = await _session(client, fake_botpress)
    assert await call(
        client, "message_created", _message(fake_botpress, conversation_id, session_id, {"text": "bot"})
    ) == (200, {})
    (sent,) = desk.sent
    assert sent.author_external_id is None and sent.author is None


async def test_the_read_made_for_the_author_id_gives_the_display_when_the_memo_is_gone(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress, bp_api: Any
) -> None:
    user_id, conversation_id, session_id = await _session(client, fake_botpress)
    await forget_end_user(client.app, user_id)
    fake_botpress.users[user_id]["name"] = "Jane Doe"  # only the read knows this
    before = len(bp_api.calls)
    body = _message(fake_botpress, conversation_id, session_id, {"text": "hello", "userId": user_id})
    assert await call(client, "message_created", body) == (200, {})
    (sent,) = desk.sent
    assert sent.author == AuthorDisplay(name="Jane Doe", picture_url=PICTURE)
    assert await _user_reads(bp_api, before) == 1


async def test_with_the_author_id_cached_and_no_memo_nothing_is_read_for_the_display(
    client: Client, desk: FakeDesk, fake_botpress: FakeBotpress, bp_api: Any
) -> None:
    user_id, conversation_id, session_id = await _session(client, fake_botpress)
    first = _message(fake_botpress, conversation_id, session_id, {"text": "one", "userId": user_id})
    assert await call(client, "message_created", first) == (200, {})
    await forget_end_user(client.app, user_id)
    before = len(bp_api.calls)
    second = _message(fake_botpress, conversation_id, session_id, {"text": "two", "userId": user_id}, n=2)
    assert await call(client, "message_created", second) == (200, {})
    assert desk.sent[1].author_external_id == desk.sent[0].author_external_id and desk.sent[1].author is None
    assert await _user_reads(bp_api, before) == 0
