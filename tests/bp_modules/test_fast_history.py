"""The fast wire validator of history items gives exactly what HistoryMessage's own validator gives.

Same verdict, same models (class, fields, fields set) on generated and mutated items; the error raised is the
model's own, naming the item and the field; and its common path calls no Python.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import TypeAdapter, ValidationError

from bp_modules.hitl import WIRE_CONTEXT, HistoryMessage, _fast_history as fast_history, validate_history
from tests.bp_modules.mutations import mutated
from tests.bp_modules.reference import FEW, HISTORY_ELEMENT, instances, load

OWN = TypeAdapter(list[HistoryMessage])


def _outcome(validate: Any, items: list[Any]) -> tuple[str, Any]:
    try:
        models = validate(items)
    except ValidationError as exc:
        return "refused", [(error["loc"], error["msg"]) for error in exc.errors()]
    return "accepted", [(model, type(model.payload), model.model_fields_set) for model in models]


def _fast(items: list[Any]) -> Any:
    return fast_history._FAST.validate_python(items, by_name=False)


def _own(items: list[Any]) -> Any:
    return OWN.validate_python(items, context=dict(WIRE_CONTEXT), by_name=False)


def _same_verdict_and_models(items: list[Any]) -> None:
    fast, own = _outcome(_fast, items), _outcome(_own, items)
    assert fast[0] == own[0], items
    if own[0] == "accepted":
        assert fast == own, items
    assert _outcome(lambda items: validate_history(items, dict(WIRE_CONTEXT)), items) == own


def test_generated_items_are_validated_alike() -> None:
    @FEW
    @given(st.lists(instances(load(HISTORY_ELEMENT)), min_size=1, max_size=3))
    def check(items: list[Any]) -> None:
        _same_verdict_and_models(items)

    check()


def test_mutated_items_get_the_same_verdict_and_models() -> None:
    @FEW
    @given(mutated(instances(load(HISTORY_ELEMENT))))
    def check(item: Any) -> None:
        _same_verdict_and_models([item])

    check()


@pytest.mark.parametrize(
    "item",
    [
        {"source": {"type": "bot"}, "type": "image", "payload": {"imageUrl": "u", "title": None}},
        {"source": {"type": "bot", "userId": None}, "type": "text", "payload": {"text": "hi", "x": None}},
        {"source": {"type": "user"}, "type": "text", "payload": {"text": "hi"}},
        {"source": {"type": "bot"}, "type": "nope", "payload": {"text": "hi"}},
        {"source": {"type": "bot"}, "payload": {"text": "hi"}},
        {"source": {"type": "bot"}, "type": "text", "payload": {"image_url": "u", "text": "t", "type": "x"}},
        {"source": {"type": "bot"}, "type": "image", "payload": {"image_url": "u"}},
        {"source": {"type": "bot"}, "type": "location", "payload": {"latitude": "1.5", "longitude": 2}},
        {"source": {"type": "bot"}, "type": "dropdown", "payload": {"text": "t", "options": []}},
        {"type": "card", "source": {"type": "bot"}, "payload": {"title": "t", "actions": [{"action": "say"}]}},
    ],
)
def test_nulls_unknown_keys_and_wrong_types_are_judged_alike(item: dict[str, Any]) -> None:
    _same_verdict_and_models([item])


def test_a_refused_item_gets_the_model_s_own_error() -> None:
    items = [{"source": {"type": "bot"}, "type": "text", "payload": {"text": "a"}}] * 3
    items = [*items, {"source": {"type": "bot"}, "type": "image", "payload": {"imageUrl": "u", "title": None}}]
    with pytest.raises(ValidationError) as raised:
        validate_history(items, dict(WIRE_CONTEXT))
    assert [(error["loc"], error["msg"]) for error in raised.value.errors()] == [
        ((3, "payload", "title"), "Input should be omitted rather than null")
    ]


def test_the_common_path_calls_no_python_of_the_models() -> None:
    items = [
        {"source": {"type": "user", "userId": "u"}, "type": "text", "payload": {"text": f"line {n}"}} for n in range(5)
    ]
    called: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.endswith(("hitl/_base.py", "hitl/actions.py")):
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        validate_history(items, dict(WIRE_CONTEXT))
    finally:
        sys.setprofile(None)
    assert called == []
    assert HistoryMessage.__dict__["__pydantic_complete__"] is True  # restored after the build
