"""The interface version and names this code implements, pinned against the reference."""

from __future__ import annotations

from bp_modules import hitl
from tests.bp_modules.reference import HITL, load


def test_interface_is_hitl_2_1_0() -> None:
    statement = next(iter(load(HITL)["interfaces"].values()))
    assert (hitl.INTERFACE_NAME, hitl.INTERFACE_VERSION) == ("hitl", "2.1.0")
    assert (statement["name"], statement["version"]) == (hitl.INTERFACE_NAME, hitl.INTERFACE_VERSION)


def test_the_channel_has_exactly_six_message_types() -> None:
    reference = load(HITL)["channels"]["hitl"]["messages"]
    assert hitl.HITL_MESSAGE_TYPES == ("text", "image", "audio", "video", "file", "bloc")
    assert set(hitl.HITL_PAYLOAD_MODELS) == set(hitl.HITL_MESSAGE_TYPES) == set(reference)


def test_action_event_channel_and_entity_names_match_the_interface() -> None:
    statement = next(iter(load(HITL)["interfaces"].values()))
    assert set(hitl.ACTION_NAMES) == set(statement["actions"])
    assert set(hitl.EVENT_NAMES) == set(statement["events"])
    assert {hitl.CHANNEL_NAME} == set(statement["channels"])
    assert {hitl.ENTITY_NAME} == set(statement["entities"])


def test_history_accepts_all_twelve_message_types() -> None:
    reference = load("message-history-element.schema.json")
    types = {branch["properties"]["type"]["const"] for branch in reference["anyOf"]}
    assert set(hitl.PAYLOAD_MODELS) == types
    assert len(types) == 12
