"""startHitl's input, with its ``messageHistory`` items validated on first use.

The transcript keeps at most its budget (64 KB) of a history: of 1,000 messages, a few hundred. Each item is
validated as :class:`HistoryMessage` (the SDK's wire rules) only when the transcript reads it, so the omitted
middle of a long history costs nothing; an item that is read and malformed is refused as before, naming it
(``input.messageHistory.<index>.<field>``). An omitted item is never used, and is not checked (unless it shares
a chunk of :data:`CHUNK` items with one that is). The first and last chunks, always read, are validated with the
input's other fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from pydantic import ValidationError

from bp_modules.hitl import WIRE_CONTEXT, HistoryMessage, StartHitlInput, validate_history

from ..errors import InvalidPayloadError
from .validation import describe, validate

HISTORY_KEY = "messageHistory"
CHUNK = 50
"""Items validated together: one call into pydantic per chunk, not per item (a third of the cost per item)."""


@dataclass(frozen=True)
class StartRequest:
    """startHitl's validated input; its history is :attr:`history`, not ``data.message_history`` (left empty)."""

    data: StartHitlInput
    history: Sequence[HistoryMessage]


def parse_start_input(raw_input: Any) -> StartRequest:
    """Validate every field now but the history's items, which :class:`LazyHistory` validates when read."""
    items = raw_input.get(HISTORY_KEY) if isinstance(raw_input, dict) else None
    if not isinstance(items, list):  # missing or not a list: the model says what is wrong, as before
        data = validate(StartHitlInput, raw_input, "input")
        return StartRequest(data, data.message_history)
    data = validate(StartHitlInput, {**raw_input, HISTORY_KEY: []}, "input")
    history = LazyHistory(items)
    history.validate_ends()
    return StartRequest(data, history)


class LazyHistory(Sequence[HistoryMessage]):
    """The raw history items, validated (and kept) by chunks of :data:`CHUNK`, the first time one of them is read."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items
        self._chunks: dict[int, list[HistoryMessage]] = {}

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> HistoryMessage: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryMessage]: ...

    def __getitem__(self, index: int | slice) -> HistoryMessage | Sequence[HistoryMessage]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self._items):
            raise IndexError(index)
        chunk, offset = divmod(position, CHUNK)
        if chunk not in self._chunks:
            self._chunks[chunk] = self._validate(chunk * CHUNK)
        return self._chunks[chunk][offset]

    def validate_ends(self) -> None:
        """Validate the first and the last chunk now: the transcript always reads them, so a bad item there is
        refused before any upstream call (and a history of up to :data:`CHUNK` items is wholly validated)."""
        if self._items:
            self[0], self[-1]  # read for their validation

    def _validate(self, start: int) -> list[HistoryMessage]:
        try:
            # pydantic-core applies the wire rules itself; an invalid chunk is validated again for the model's error.
            return validate_history(self._items[start : start + CHUNK], dict(WIRE_CONTEXT))
        except ValidationError as exc:
            raise InvalidPayloadError(describe(exc, f"input.{HISTORY_KEY}", offset=start)) from None
