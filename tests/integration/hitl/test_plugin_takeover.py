"""Helpdesk events for a conversation the HITL plugin has not taken yet wait (bounded) for its ``upstream`` tag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from integration.app_keys import SETTINGS
from integration.botpress import Conversation
from integration.hitl import takeover
from tests.contracts.botpress import bp_conversation
from tests.factories import webhook_body
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeHarness, fake_webhook
from tests.memos import remember_session_conversation

from .test_flow import call, start_session

UPSTREAM = "conv_01JUPSTREAM00000000000000000"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _new_session(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> tuple[dict[str, Any], str]:
    """A session whose conversation was created just now (the fake's default creation time is long past)."""
    conversation_id, session_id = await start_session(client, fake_botpress)
    conversation = fake_botpress.conversations[conversation_id]
    conversation["createdAt"] = conversation["updatedAt"] = _now_iso()
    # startHitl kept the conversation as it made it; that copy was made just now too.
    await remember_session_conversation(client.app, session_id, conversation)
    return conversation, session_id


async def _desk_closes(client: TestClient[web.Request, web.Application], session_id: str) -> None:
    close = {"kind": "close", "session": session_id, "key": f"close-{session_id}"}
    status, body = await call(
        client, "webhook_received", webhook_body(fake_webhook(FakeHarness.secret, close).model_dump())
    )
    assert status == 200, body


async def test_a_stop_waits_until_the_plugin_has_tagged_the_conversation(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation, session_id = await _new_session(client, fake_botpress)
    events_at_each_pause: list[list[str]] = []

    async def the_plugin_takes_it_meanwhile(seconds: float) -> None:
        events_at_each_pause.append(fake_botpress.event_types())
        if len(events_at_each_pause) == 2:  # startHitl has answered; the plugin links both sides
            conversation["tags"]["hitl#upstream"] = UPSTREAM

    monkeypatch.setattr(takeover, "_sleep", the_plugin_takes_it_meanwhile)
    await _desk_closes(client, session_id)

    assert events_at_each_pause == [[], []]  # nothing was emitted before the tag
    assert fake_botpress.event_types() == ["hitlStopped"]


async def test_a_conversation_the_plugin_has_taken_does_not_wait(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation, session_id = await _new_session(client, fake_botpress)
    conversation["tags"]["hitl#upstream"] = UPSTREAM
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(takeover, "_sleep", pause)
    await _desk_closes(client, session_id)
    assert pauses == [] and fake_botpress.event_types() == ["hitlStopped"]


async def test_without_the_plugin_the_event_is_applied_once_the_bound_is_spent(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, session_id = await _new_session(client, fake_botpress)
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(takeover, "_sleep", pause)
    await _desk_closes(client, session_id)

    bound = client.app[SETTINGS].plugin_takeover_wait_seconds
    assert bound - 1 < sum(pauses) <= bound and len(pauses) < 20  # a growing delay, capped: a few reads, not a spin
    assert fake_botpress.event_types() == ["hitlStopped"]  # late, never lost


async def test_an_old_conversation_never_waits(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, session_id = await start_session(client, fake_botpress)  # created long ago, and never tagged

    async def no_pause(seconds: float) -> None:
        raise AssertionError("an old conversation waited")

    monkeypatch.setattr(takeover, "_sleep", no_pause)
    await _desk_closes(client, session_id)
    assert fake_botpress.event_types() == ["hitlStopped"]


@pytest.mark.parametrize(
    ("tags", "taken"),
    [
        ({"id": "1"}, False),
        ({"hitl#upstream": UPSTREAM}, True),
        ({"support#upstream": UPSTREAM}, True),
        ({"upstream": UPSTREAM}, True),
        ({"hitl#upstreamish": "x", "hitl#downstream": "y"}, False),
    ],
)
def test_the_plugin_tag_is_found_whatever_the_plugin_alias(tags: dict[str, str], taken: bool) -> None:
    assert takeover.taken_by_plugin(Conversation.model_validate(bp_conversation(tags=tags))) is taken
