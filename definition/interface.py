"""The ``hitl`` interface as this integration implements it: actions, events, channel and the statement.

Botpress's ``IntegrationDefinition.extend(hitl, ...)`` resolves the interface into plain actions,
events and a channel under the integration's own (possibly renamed) names, and records an
"interface implementation statement" mapping the interface's names to ours. We build the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from bp_modules.hitl import (
    CHANNEL_NAME,
    ENTITY_NAME,
    HITL_PAYLOAD_MODELS,
    INTERFACE_NAME,
    INTERFACE_VERSION,
    CreateUserInput,
    CreateUserOutput,
    HitlAssigned,
    HitlStopped,
    StartHitlInput,
    StartHitlOutput,
    StopHitlInput,
    StopHitlOutput,
)

from .json_schema import wire_schema
from .renames import Renames
from .tags import CONVERSATION_TAGS, MESSAGE_TAGS, tag_definitions

HIDDEN_IN_STUDIO: Final = {"bpActionHiddenInStudio": "true"}

# Interface name -> (title, description, input model, output model).
_ACTIONS: Final[Mapping[str, tuple[str, str, type[BaseModel], type[BaseModel]]]] = {
    "createUser": (
        "Create external user",
        "Create an end user in the external service and in Botpress",
        CreateUserInput,
        CreateUserOutput,
    ),
    "startHitl": (
        "Start new HITL session",
        "Create a new HITL session in the external service and in Botpress",
        StartHitlInput,
        StartHitlOutput,
    ),
    "stopHitl": (
        "Stop HITL session",
        "Stop an existing HITL session in the external service",
        StopHitlInput,
        StopHitlOutput,
    ),
}
# Interface name -> (title, description, payload model).
_EVENTS: Final[Mapping[str, tuple[str, str, type[BaseModel]]]] = {
    "hitlAssigned": ("HITL session assigned", "A human agent was assigned to the HITL session", HitlAssigned),
    "hitlStopped": ("HITL session stopped", "The HITL session ended in the external service", HitlStopped),
}


def interface_key(entity_name: str) -> str:
    """The key of the statement under ``interfaces``, e.g. ``"hitl<hitlTicket>"`` (as the SDK builds it)."""
    return f"{INTERFACE_NAME}<{entity_name}>"


def action_definitions(renames: Renames, entity_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The three hitl actions under their wire names; ``startHitl`` takes the entity as ``hitlSession``."""
    actions: dict[str, Any] = {}
    for name, (title, description, input_model, output_model) in _ACTIONS.items():
        input_schema = wire_schema(input_model)
        if name == "startHitl":
            input_schema["properties"]["hitlSession"] = _embedded(entity_schema)
        actions[renames.action(name)] = {
            "title": title,
            "description": description,
            "input": {"schema": input_schema},
            "output": {"schema": wire_schema(output_model)},
            "attributes": dict(HIDDEN_IN_STUDIO),
        }
    return actions


def event_definitions(renames: Renames) -> dict[str, Any]:
    """The two hitl events under their wire names."""
    return {
        renames.event(name): {
            "title": title,
            "description": description,
            "schema": wire_schema(model),
            "attributes": dict(HIDDEN_IN_STUDIO),
        }
        for name, (title, description, model) in _EVENTS.items()
    }


def channel_definitions(renames: Renames, adapter_title: str) -> dict[str, Any]:
    """The hitl channel under its wire name: the six message types keep their interface names."""
    channel = {
        "title": f"{adapter_title} HITL",
        "description": f"Messages between the bot's users and human agents in {adapter_title}",
        "messages": {
            message_type: {"schema": wire_schema(model)} for message_type, model in HITL_PAYLOAD_MODELS.items()
        },
        "conversation": {"tags": tag_definitions(CONVERSATION_TAGS)},
        "message": {"tags": tag_definitions(MESSAGE_TAGS)},
    }
    return {renames.channel: channel}


def interface_statement(renames: Renames, entity_name: str) -> dict[str, Any]:
    """What implements the interface: interface name -> our name, for the entity, actions, events, channel.

    ``id`` (the interface's id in the Botpress hub) is left out: this module does no I/O. Whoever
    uploads the definition looks it up and sets it, see :func:`definition.with_interface_id`.
    """
    return {
        "name": INTERFACE_NAME,
        "version": INTERFACE_VERSION,
        "entities": {ENTITY_NAME: {"name": entity_name}},
        "actions": {name: {"name": renames.action(name)} for name in _ACTIONS},
        "events": {name: {"name": renames.event(name)} for name in _EVENTS},
        "channels": {CHANNEL_NAME: {"name": renames.channel}},
    }


def _embedded(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$schema"}
