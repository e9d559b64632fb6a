"""The channel's guards: the delivery journal holds whatever the author memo's TTL, and "not linked" is never kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import register_adapter
from integration.settings import Settings
from tests import conftest as shared
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk

from .test_flow import bot_message, call, start_session


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Settings:
    """The test server; parametrize it with a value of ``HITL_BRIDGE_AUTHOR_CACHE_SECONDS`` to set one."""
    if hasattr(request, "param"):
        monkeypatch.setenv("HITL_BRIDGE_AUTHOR_CACHE_SECONDS", str(request.param))
    register_adapter(FakeAdapter, clobber=True)
    return shared.test_settings(tmp_path)


@pytest.mark.parametrize("settings", [0], indirect=True)
async def test_redelivery_guard_holds_with_author_caching_off(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    body = bot_message(
        fake_botpress, conversation_id, session_id, "msg_01JGUARD000000000000000000", "text", {"text": "1"}
    )
    for _ in range(2):  # the second is a redelivery that beat the ack: it carries no ack tag yet
        assert await call(client, "message_created", body) == (200, {})
    assert len(desk.sent) == 1
    assert fake_botpress.messages["msg_01JGUARD000000000000000000"]["tags"]["id"].startswith("m-")


async def test_an_author_linked_after_a_message_is_seen_as_linked_at_once(
    client: TestClient[web.Request, web.Application], desk: FakeDesk, fake_botpress: FakeBotpress
) -> None:
    conversation_id, session_id = await start_session(client, fake_botpress)
    end_user_id = next(iter(fake_botpress.users))
    external_user_id = fake_botpress.users[end_user_id]["tags"].pop("id")  # not linked (yet)
    for n in range(2):
        payload = {"text": f"m{n}", "userId": end_user_id}
        message_id = f"msg_01JLINK{n:020d}"
        await call(
            client,
            "message_created",
            bot_message(fake_botpress, conversation_id, session_id, message_id, "text", payload),
        )
        fake_botpress.users[end_user_id]["tags"]["id"] = external_user_id  # createUser linked the user meanwhile
    assert [sent.author_external_id for sent in desk.sent] == [None, external_user_id]
