"""The definition's identity, configuration, tags, states and entity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

import definition
from definition import (
    HITL_SESSION_STATE,
    HITL_START_STATE,
    HitlSessionState,
    HitlStartState,
    Renames,
    build_definition,
    configuration_schema,
    integration_name,
    wire_schema,
    with_interface_id,
)
from tests.definition.adapters import ClashingStateAdapter, Credentials, DeskAdapter, DeskConfig, TicketOptions


def _build(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "adapter_name": "desk",
        "adapter_title": "Test Desk",
        "config_model": DeskConfig,
        "session_model": TicketOptions,
        "entity_name": "hitlTicket",
        "adapter_states": {"credentials": Credentials},
        "renames": Renames(),
        "version": "0.4.2",
    }
    return build_definition(**{**arguments, **overrides})


def _schemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every top-level JSON Schema in the body (the values of ``schema`` keys)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield f"{path}/schema", value
            else:
                yield from _schemas(value, f"{path}/{key}")


def test_identity() -> None:
    body = _build()
    assert body["name"] == "hitl-bridge-desk"
    assert body["version"] == "0.4.2"
    assert "Test Desk" in body["title"]
    assert body["description"]
    assert "icon" not in body
    assert set(body) == {
        "name",
        "version",
        "title",
        "description",
        "configuration",
        "user",
        "channels",
        "actions",
        "events",
        "states",
        "entities",
        "interfaces",
    }


def test_the_name_carries_a_workspace_handle_when_given() -> None:
    assert _build(workspace_handle="acme")["name"] == "acme/hitl-bridge-desk"
    assert integration_name("zendesk") == "hitl-bridge-zendesk"


@pytest.mark.parametrize("bad", ["", "Desk", "my desk", "desk/x", "-desk"])
def test_bad_adapter_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="adapter name"):
        _build(adapter_name=bad)


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "latest", ""])
def test_the_version_must_be_semantic(bad: str) -> None:
    with pytest.raises(ValueError, match="semantic version"):
        _build(version=bad)


def test_a_pre_release_version_is_fine() -> None:
    assert _build(version="0.0.0+unknown")["version"] == "0.0.0+unknown"


def test_the_body_is_deterministic_json() -> None:
    assert json.dumps(_build(), sort_keys=True) == json.dumps(_build(), sort_keys=True)


def test_every_schema_is_draft_07_and_ref_free() -> None:
    body = _build()
    assert "$ref" not in json.dumps(body)
    assert "$defs" not in json.dumps(body)
    found = dict(_schemas(body))
    assert len(found) == 3 * 2 + 2 + 6 + 3 + 1 + 1  # actions, events, messages, states, entity, configuration
    for path, schema in found.items():
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#", path
        jsonschema.Draft7Validator.check_schema(schema)


def test_no_generated_titles_and_no_null_types() -> None:
    text = json.dumps(_build()["actions"])
    assert '"null"' not in text
    assert '"title": "Userid"' not in text


def test_configuration_adds_the_adapter_and_marks_secrets() -> None:
    schema = _build()["configuration"]["schema"]
    properties = schema["properties"]
    assert properties["adapter"]["const"] == properties["adapter"]["default"] == "desk"
    assert properties["apiKey"]["x-zui"] == {"secret": True}
    assert properties["webhookSecret"]["x-zui"] == {"secret": True}
    assert "x-zui" not in properties["subdomain"]
    assert "format" not in properties["apiKey"]
    assert set(schema["required"]) == {"apiKey", "subdomain"}
    assert "description" not in schema  # the model's docstring is ours, not the bot builder's


def test_the_configuration_validates_what_botpress_would_send() -> None:
    schema = _build()["configuration"]["schema"]
    sent = {"adapter": "desk", "apiKey": "k", "subdomain": "acme"}
    assert jsonschema.Draft7Validator(schema).is_valid(sent)
    assert not jsonschema.Draft7Validator(schema).is_valid({**sent, "adapter": "zendesk"})
    assert not jsonschema.Draft7Validator(schema).is_valid({"apiKey": "k"})


def test_the_adapter_property_is_reserved() -> None:
    class Clashing(BaseModel):
        adapter: str

    with pytest.raises(ValueError, match="reserved"):
        configuration_schema(Clashing, "desk")


def test_user_conversation_and_message_tags() -> None:
    body = _build()
    assert set(body["user"]["tags"]) == {"id", "email", "createKey"}
    channel = body["channels"]["hitl"]
    assert set(channel["conversation"]["tags"]) == {"id"}
    assert set(channel["message"]["tags"]) == {"id"}
    for tags in (body["user"]["tags"], channel["conversation"]["tags"], channel["message"]["tags"]):
        for tag in tags.values():
            assert set(tag) == {"title", "description"}
            assert tag["title"]
            assert tag["description"]


def test_the_entity_is_the_adapters_session_model_under_its_entity_name() -> None:
    body = _build()
    assert set(body["entities"]) == {"hitlTicket"}
    assert body["entities"]["hitlTicket"]["schema"] == wire_schema(TicketOptions)
    assert body["entities"]["hitlTicket"]["title"]
    statement = body["interfaces"]["hitl<hitlTicket>"]
    assert statement["entities"] == {"hitlSession": {"name": "hitlTicket"}}
    assert "id" not in statement


def test_start_hitl_takes_the_entity_as_hitl_session() -> None:
    entity = dict(wire_schema(TicketOptions))
    del entity["$schema"]
    properties = _build()["actions"]["startHitl"]["input"]["schema"]["properties"]
    assert properties["hitlSession"] == entity


def test_renames_are_the_wire_names_everywhere() -> None:
    renames = Renames(actions={"startHitl": "createTicket", "createUser": "createRequester"}, channel="ticket")
    body = _build(renames=renames)
    assert set(body["actions"]) == {"createRequester", "createTicket", "stopHitl"}
    assert set(body["events"]) == {"hitlAssigned", "hitlStopped"}
    assert set(body["channels"]) == {"ticket"}
    statement = body["interfaces"]["hitl<hitlTicket>"]
    assert statement["actions"]["startHitl"] == {"name": "createTicket"}
    assert statement["actions"]["createUser"] == {"name": "createRequester"}
    assert statement["channels"] == {"hitl": {"name": "ticket"}}


def test_states_ours_and_the_adapters() -> None:
    states = _build()["states"]
    assert {name: state["type"] for name, state in states.items()} == {
        HITL_START_STATE: "user",
        HITL_SESSION_STATE: "conversation",
        "credentials": "integration",
    }
    assert states[HITL_START_STATE]["schema"] == wire_schema(HitlStartState)
    assert set(states[HITL_START_STATE]["schema"]["required"]) == {"inputHash", "sessionKey"}
    assert set(states[HITL_SESSION_STATE]["schema"]["properties"]) == {
        "externalSessionId",
        "assignedAgentId",
        "closed",
        "recentEventKeys",
    }
    assert states["credentials"]["schema"] == wire_schema(Credentials)


def test_state_payloads_round_trip_through_their_schemas() -> None:
    session = HitlSessionState(external_session_id="T-1", closed=True, recent_event_keys=["e1"])
    start = HitlStartState(input_hash="h", session_key="k", external_session_id="T-1")
    for model, value in ((HitlSessionState, session), (HitlStartState, start)):
        payload = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert jsonschema.Draft7Validator(wire_schema(model)).is_valid(payload)
        assert model.model_validate(payload) == value


def test_an_adapter_state_may_not_reuse_our_state_names() -> None:
    with pytest.raises(ValueError, match="hitlSession"):
        _build(adapter_states=ClashingStateAdapter.states)


@pytest.mark.parametrize("bad", ["", "hitl ticket", "1ticket", "hitl-ticket"])
def test_bad_entity_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="entity name"):
        _build(entity_name=bad)


def test_with_interface_id_sets_the_id_on_a_copy() -> None:
    body = _build()
    completed = with_interface_id(body, "intver_123")
    assert completed["interfaces"]["hitl<hitlTicket>"]["id"] == "intver_123"
    assert "id" not in body["interfaces"]["hitl<hitlTicket>"]


def test_the_desk_adapter_builds_from_its_class_variables() -> None:
    body = _build(
        adapter_name=DeskAdapter.name,
        config_model=DeskAdapter.config_model,
        session_model=DeskAdapter.session_model,
        entity_name=DeskAdapter.entity_name,
        adapter_states=DeskAdapter.states,
    )
    assert body["name"] == "hitl-bridge-definition-test"
    assert "hitl<ticket>" in body["interfaces"]


def test_all_is_sorted_and_complete() -> None:
    exported = definition.__all__
    constants = [name for name in exported if name.isupper()]
    classes = [name for name in exported if name[0].isupper() and not name.isupper()]
    functions = [name for name in exported if name[0].islower()]
    assert exported == sorted(constants) + sorted(classes) + sorted(functions)
    assert "Renames" in exported
    assert all(hasattr(definition, name) for name in exported)
