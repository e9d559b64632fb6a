"""startHitl's history items are validated when the transcript reads them, by chunks, naming the bad item."""

from __future__ import annotations

from typing import Any

import pytest

from bp_modules.hitl import HistoryMessage
from integration.errors import InvalidPayloadError
from integration.hitl.history import CHUNK, LazyHistory, parse_start_input
from integration.hitl.transcript import render_transcript


def _text(n: int, text: str = "hello") -> dict[str, Any]:
    source = {"type": "user", "userId": "user_1"} if n % 2 else {"type": "bot"}
    return {"source": source, "type": "text", "payload": {"text": f"{text} {n}", "channelKey": "dropped"}}


def _input(items: list[Any]) -> dict[str, Any]:
    return {"userId": "user_1", "title": "Help", "messageHistory": items}


def test_items_are_validated_as_the_model_validates_them() -> None:
    items = [_text(n) for n in range(CHUNK + 3)]
    request = parse_start_input(_input(items))
    assert request.data.user_id == "user_1" and request.data.title == "Help"
    assert list(request.history) == [HistoryMessage.model_validate(item) for item in items]
    assert request.history[-1] == HistoryMessage.model_validate(items[-1])
    assert list(request.history[1:3]) == [HistoryMessage.model_validate(item) for item in items[1:3]]
    with pytest.raises(IndexError):
        request.history[len(items)]


def test_a_bad_item_in_a_later_chunk_is_named_by_its_index_in_the_history() -> None:
    items = [_text(n) for n in range(2 * CHUNK + 10)]
    items[CHUNK + 7]["payload"] = {"text": None}
    with pytest.raises(InvalidPayloadError) as raised:
        render_transcript(parse_start_input(_input(items)).history)
    assert f"input.messageHistory.{CHUNK + 7}.payload.text" in str(raised.value)


def test_the_other_fields_are_still_checked_up_front() -> None:
    with pytest.raises(InvalidPayloadError, match=r"input\.userId"):
        parse_start_input({"messageHistory": [_text(1)]})
    with pytest.raises(InvalidPayloadError, match=r"input\.messageHistory"):
        parse_start_input({"userId": "user_1", "messageHistory": "not a list"})
    with pytest.raises(InvalidPayloadError, match=r"input\.messageHistory"):
        parse_start_input({"userId": "user_1"})


def test_only_the_chunks_the_transcript_reads_are_validated() -> None:
    # 1,000 long messages: the 64 KB transcript keeps the first and the last few; the middle is never read.
    items = [_text(n, "x" * 400) for n in range(1000)]
    middle = 500
    items[middle] = {"source": {"type": "bot"}, "type": "text", "payload": {"text": None}}
    history = LazyHistory(items)
    transcript = render_transcript(history)
    assert transcript.omitted > 0 and transcript.omitted_at < middle < transcript.omitted_at + transcript.omitted
    assert len(history._chunks) < 1000 // CHUNK
