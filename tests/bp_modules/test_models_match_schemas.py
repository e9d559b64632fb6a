"""The hitl models accept exactly what Botpress accepts, as its generated JSON Schemas describe it.

Generated cases: instances drawn from each reference schema must be accepted; one-change mutations of
them must get the same verdict from the model as from jsonschema. The reference schemas say
``additionalProperties: false``, but the SDK parses with zod, which drops unknown keys instead: the
oracle lifts that keyword (:func:`~tests.bp_modules.reference.as_the_sdk_parses`), and a separate
property checks that an added unknown key is accepted and dropped from what the model keeps. That is
what lets the HITL plugin's relayed payloads (``{type, ...payload, userId}``) through.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from hypothesis import given, strategies as st
from pydantic import BaseModel

from bp_modules import hitl
from tests.bp_modules.mutations import JSON_SCALARS, containers, mutated
from tests.bp_modules.reference import FEW, HISTORY_ELEMENT, HITL, PAYLOADS, instances, load, model_accepts, sdk_accepts


@dataclass(frozen=True)
class Case:
    """A model and the reference schema it mirrors."""

    id: str
    model: type[BaseModel]
    schema: Callable[[], dict[str, Any]]

    def expected(self, instance: Any) -> bool:
        """The SDK's verdict: jsonschema's, unknown keys dropped."""
        return sdk_accepts(self.schema(), instance)


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
    schema: dict[str, Any] = load(HITL)["actions"]["startHitl"]["input"]
    schema["properties"]["hitlSession"] = {"type": "object"}
    return schema


PAYLOAD_CASES = [
    # mypy joins the classes of the rows to ModelMetaclass; each one is a BaseModel subclass.
    Case(f"payload:{name}", cast("type[BaseModel]", model), _payload(key))
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
    Case(f"channel:{message_type}", model, _channel(message_type))
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


# Never a property of any hitl object (the plugin's `type`/`userId` are covered in test_edge_cases).
UNKNOWN_KEYS = st.sampled_from(["extra", "metadata", "user_id", "ID", "", "webchat"])


@st.composite
def _with_an_unknown_key(draw: st.DrawFn, case: Case) -> tuple[Any, Any]:
    """A valid instance, and a copy with one unknown key added to one of its objects (``hitlSession`` aside)."""
    instance = draw(instances(case.schema()))
    # hitlSession is any object here: the entity is the adapter's to parse (parse_session_options).
    targets = [path for path in containers(instance) if "hitlSession" not in path]
    where = draw(st.sampled_from(targets))
    extended = copy.deepcopy(instance)
    target = extended
    for part in where:
        target = target[part]
    target[draw(UNKNOWN_KEYS)] = draw(JSON_SCALARS)
    return instance, extended


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_an_unknown_key_is_accepted_and_dropped(case: Case) -> None:
    @FEW
    @given(_with_an_unknown_key(case))
    def check(pair: tuple[Any, Any]) -> None:
        instance, extended = pair
        dumped = case.model.model_validate(extended).model_dump(mode="json", by_alias=True, exclude_none=True)
        assert dumped == instance

    check()
