"""The chat page's live stream (server-sent events) over a real socket: a closed tab is not an error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.sandbox.test_handoff_flow import Running, _start

pytestmark = pytest.mark.e2e


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for value in _start(tmp_path):
        yield value


async def test_a_closed_chat_tab_logs_no_error(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    session = (await running.http.post("/sandbox/chat/start", json={})).json()
    conversation_id = session["conversationId"]
    feed = running.sandbox.feed
    async with running.http.stream("GET", "/sandbox/chat/stream", params={"conversationId": conversation_id}) as sse:
        assert sse.status_code == 200
        assert feed.watching(conversation_id) == 1
    # The tab is gone; the next message makes the server write to the closed stream.
    for _ in range(100):
        await running.chat(session, "hello?")
        if feed.watching(conversation_id) == 0:
            break
        await asyncio.sleep(0.05)
    assert feed.watching(conversation_id) == 0
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
