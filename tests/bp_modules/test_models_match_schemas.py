"""The hitl models accept exactly what Botpress's generated JSON Schemas accept.

Generated cases: instances drawn from each reference schema must be accepted; one-change mutations of
them must get the same verdict from the model as from jsonschema. The one deliberate difference, a
``type`` key equal to the message type inside a channel payload (the HITL plugin sends it), is
accounted for explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from pydantic import BaseModel

from bp_modules import hitl
from tests.bp_modules.mutations import mutated
from tests.bp_modules.reference import FEW, HISTORY_ELEMENT, HITL, PAYLOADS, instances, is_valid, load, model_accepts


@dataclass(frozen=True)
class Case:
    """A model and the reference schema it mirrors."""

    id: str
    model: type[BaseModel]
    schema: Callable[[], dict[str, Any]]
    channel_type: str | None = None

    def expected(self, instance: Any) -> bool:
        """jsonschema's verdict, after the documented leniency for channel payloads."""
        if self.channel_type and isinstance(instance, dict) and instance.get("type") == self.channel_type:
            instance = {key: value for key, value in instance.items() if key != "type"}
        return is_valid(self.schema(), instance)


def _payload(name: str) -> Callable[[], dict[str, Any]]:
    return lambda: load(PAYLOADS)[name]


def _channel(message_type: str) -> Callable[[], dict[str, Any]]:
    return lambda: load(HITL)["channels"]["hitl"]["messages"][message_type]


def _action(name: str, side: str) -> Callable[[], dict[str, Any]]:
    return lambda: load(HITL)["actions"][name][side]


def _event(name: str) -> Callable[[], dict[str, Any]]:
    return lambda: load(HITL)["events"][name]["schema"]


def _start_hitl_input() -> dict[str, Any]:
    # The reference's hitlSession is one integration's entity; the interface model takes any object
    # and leaves the entity to the adapter (HelpdeskAdapter.parse_session_options).
    schema = load(HITL)["actions"]["startHitl"]["input"]
    schema["properties"]["hitlSession"] = {"type": "object"}
    return schema


PAYLOAD_CASES = [
    Case(f"payload:{name}", model, _payload(key))
    for name, model, key in [
        ("text", hitl.TextPayload, "defaults.text"),
        ("image", hitl.ImagePayload, "defaults.image"),
        ("audio", hitl.AudioPayload, "defaults.audio"),
        ("video", hitl.VideoPayload, "defaults.video"),
        ("file", hitl.FilePayload, "defaults.file"),
        ("location", hitl.LocationPayload, "defaults.location"),
        ("card", hitl.CardPayload, "defaults.card"),
        ("carousel", hitl.CarouselPayload, "defaults.carousel"),
        ("choice", hitl.ChoicePayload, "defaults.choice"),
        ("dropdown", hitl.DropdownPayload, "defaults.dropdown"),
        ("markdown", hitl.MarkdownPayload, "markdown (deprecated)"),
        ("bloc", hitl.BlocPayload, 'markdownBloc (deprecated; = hitl "bloc")'),
    ]
]
CHANNEL_CASES = [
    Case(f"channel:{message_type}", model, _channel(message_type), channel_type=message_type)
    for message_type, model in hitl.HITL_PAYLOAD_MODELS.items()
]
ACTION_EVENT_CASES = [
    Case("createUser.input", hitl.CreateUserInput, _action("createUser", "input")),
    Case("createUser.output", hitl.CreateUserOutput, _action("createUser", "output")),
    Case("startHitl.input", hitl.StartHitlInput, _start_hitl_input),
    Case("startHitl.output", hitl.StartHitlOutput, _action("startHitl", "output")),
    Case("stopHitl.input", hitl.StopHitlInput, _action("stopHitl", "input")),
    Case("stopHitl.output", hitl.StopHitlOutput, _action("stopHitl", "output")),
    Case("hitlAssigned", hitl.HitlAssigned, _event("hitlAssigned")),
    Case("hitlStopped", hitl.HitlStopped, _event("hitlStopped")),
    Case("messageHistory element", hitl.HistoryMessage, lambda: load(HISTORY_ELEMENT)),
]
CASES = PAYLOAD_CASES + CHANNEL_CASES + ACTION_EVENT_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_model_accepts_every_valid_instance(case: Case) -> None:
    @FEW
    @given(instances(case.schema()))
    def check(instance: Any) -> None:
        assert model_accepts(case.model, instance), instance

    check()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_model_and_schema_agree_on_mutated_instances(case: Case) -> None:
    @FEW
    @given(mutated(instances(case.schema())))
    def check(instance: Any) -> None:
        assert model_accepts(case.model, instance) is case.expected(instance), instance

    check()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_wire_dump_of_a_valid_instance_is_valid(case: Case) -> None:
    @FEW
    @given(instances(case.schema()))
    def check(instance: Any) -> None:
        dumped = case.model.model_validate(instance).model_dump(mode="json", by_alias=True, exclude_none=True)
        assert dumped == instance

    check()
