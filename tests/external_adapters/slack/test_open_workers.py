"""Two workers on one backend (embedded, and two connections to one PostgreSQL): one parent per key, one post per
message part, one closing notice, whichever worker gets there first."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import httpx
import pytest

from bp_modules.hitl import HitlText, parse_hitl_payload
from coordination import Coordinator
from tests.adapter_kit import MEDIA_URL
from tests.contracts.slack import SlackMockRouter

from .fake_slack import CHANNEL_ID, FakeSlack
from .harness import Build, Built
from .test_open import huge_transcript, open_request
from .test_outbound import outbound


@pytest.fixture
def round_trips(slack_api: SlackMockRouter, fake_slack: FakeSlack, media_host: Any) -> None:
    """Each answer takes a few turns of the event loop, as a real round trip does, so two workers interleave."""
    for route in slack_api.routes:
        original = route.side_effect
        fixed = route.return_value

        async def answer(request: httpx.Request, _original: Any = original, _fixed: Any = fixed, **params: Any) -> Any:
            for _ in range(3):
                await asyncio.sleep(0)
            if not callable(_original):
                return _fixed
            answered = _original(request, **params)
            return await answered if inspect.isawaitable(answered) else answered

        route.side_effect = answer


def two(build: Build, workers: tuple[Coordinator, Coordinator]) -> tuple[Built, Built]:
    return build(coordinator=workers[0]), build(coordinator=workers[1])


async def test_two_workers_opening_one_key_post_one_parent_and_each_part_once(
    build: Build, workers: tuple[Coordinator, Coordinator], fake_slack: FakeSlack, round_trips: None
) -> None:
    a, b = two(build, workers)
    request = open_request(markdown=huge_transcript())
    first, second = await asyncio.gather(a.adapter.open_session(request), b.adapter.open_session(request))
    assert first == second
    assert len(fake_slack.channels[CHANNEL_ID].messages) == 1
    parts = [m["metadata"]["event_payload"]["part"] for m in fake_slack.thread(first)]
    assert parts == list(range(1, len(parts) + 1)) and len(parts) >= 3


async def test_two_workers_sending_one_message_post_each_part_once(
    build: Build, workers: tuple[Coordinator, Coordinator], fake_slack: FakeSlack, round_trips: None
) -> None:
    a, b = two(build, workers)
    session_id = await a.adapter.open_session(open_request(new_key=True))
    message = parse_hitl_payload(
        "bloc",
        {
            "items": [
                {"type": "text", "payload": {"text": "hi"}},
                {"type": "image", "payload": {"imageUrl": f"{MEDIA_URL}/cat.png"}},
            ]
        },
    )
    sent = await asyncio.gather(*(w.adapter.send_message(outbound(session_id, message)) for w in (a, b, a, b)))
    assert len(set(sent)) == 1
    assert [("files" in m) for m in fake_slack.thread(session_id)] == [False, True]


async def test_two_workers_closing_one_session_post_one_notice(
    build: Build, workers: tuple[Coordinator, Coordinator], fake_slack: FakeSlack, round_trips: None
) -> None:
    a, b = two(build, workers)
    session_id = await a.adapter.open_session(open_request(new_key=True))
    await a.adapter.send_message(outbound(session_id, HitlText(text="hello")))
    await asyncio.gather(a.adapter.close_session(session_id), b.adapter.close_session(session_id))
    assert len(fake_slack.thread(session_id)) == 2  # the message and one notice
