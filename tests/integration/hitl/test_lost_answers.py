"""hitl actions and webhooks when Botpress commits a write and its answer is lost: nothing is done twice."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from definition.tags import USER_CREATE_KEY_TAG
from tests.contracts.botpress import BotpressMockRouter
from tests.contracts.lost_answers import LostAnswers, lose_answers
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeDesk

from .test_flow import _webhook, action, call, start_session


@pytest.fixture
def lost(
    client: TestClient[web.Request, web.Application], bp_api: BotpressMockRouter, fake_botpress: FakeBotpress
) -> LostAnswers:
    """Answers to lose, on the routes of the fake Botpress behind ``client``."""
    return lose_answers(bp_api)


def _posts(router: BotpressMockRouter, path: str) -> int:
    return sum(1 for call in router.calls if call.request.method == "POST" and call.request.url.path == path)


async def test_a_user_without_email_whose_answer_was_lost_is_created_once(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress, lost: LostAnswers
) -> None:
    lost.lose("POST", r"/v1/chat/users")

    output = await action(client, "createUser", {"name": "Anonymous"})

    assert list(fake_botpress.users) == [output["userId"]] and len(lost.lost) == 1
    user = fake_botpress.users[output["userId"]]
    assert set(user["tags"]) == {USER_CREATE_KEY_TAG, "id"} and len(desk.users) == 1


async def test_users_without_email_are_still_one_per_call(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> None:
    first = await action(client, "createUser", {"name": "Anonymous"})
    second = await action(client, "createUser", {"name": "Anonymous"})
    assert first != second and len(fake_botpress.users) == 2


@pytest.mark.parametrize("kind", ["assign", "close"])
async def test_an_event_whose_answer_was_lost_is_emitted_once_and_the_webhook_succeeds(
    client: TestClient[web.Request, web.Application],
    bp_api: BotpressMockRouter,
    fake_botpress: FakeBotpress,
    lost: LostAnswers,
    kind: str,
) -> None:
    _, session_id = await start_session(client, fake_botpress)
    event: dict[str, Any] = {"kind": kind, "session": session_id, "key": f"{kind}-1", "agent": "a-9"}
    lost.lose("POST", r"/v1/chat/events$")

    status, _ = await call(client, "webhook_received", _webhook(event))

    assert status == 200 and len(lost.lost) == 1
    assert fake_botpress.event_types() == ["hitlAssigned" if kind == "assign" else "hitlStopped"]
    assert _posts(bp_api, "/v1/chat/events") == 1
