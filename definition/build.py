"""The whole integration definition: the body of Botpress's create/update-integration API call.

Naming: a Botpress integration name is unique per workspace, and one workspace may well run two
helpdesks through hitl-bridge, so each adapter gets its own integration, named
``hitl-bridge-<adapter>`` (``inbox`` -> ``hitl-bridge-inbox``). A private integration outside
Botpress's own workspace is named ``<workspace-handle>/hitl-bridge-<adapter>``; pass the handle.

Left out on purpose: ``icon`` and ``readme`` (files the uploader may add), ``secrets`` (the server
keeps its own), ``identifier`` (we route by webhook id, not by an extract script), ``code`` and
``url`` (deployment details), and the statement's interface ``id`` (see :func:`with_interface_id`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from bp_modules.hitl import INTERFACE_VERSION

from .configuration import configuration_schema
from .interface import (
    action_definitions,
    channel_definitions,
    event_definitions,
    interface_key,
    interface_statement,
)
from .json_schema import wire_schema
from .renames import Renames
from .states import state_definitions
from .tags import USER_TAGS, tag_definitions

NAME_PREFIX: Final = "hitl-bridge"
_ADAPTER_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_ENTITY_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def integration_name(adapter_name: str, workspace_handle: str | None = None) -> str:
    """``hitl-bridge-<adapter>``, prefixed by ``<workspace_handle>/`` when one is given.

    Raises:
        ValueError: the adapter name or handle is not lower-case letters, digits, ``-`` and ``_``.
    """
    for label, value in (("adapter name", adapter_name), ("workspace handle", workspace_handle)):
        if value is not None and not _ADAPTER_NAME.match(value):
            raise ValueError(f"{label} {value!r}: use lower-case letters, digits, '-' and '_'")
    name = f"{NAME_PREFIX}-{adapter_name}"
    return f"{workspace_handle}/{name}" if workspace_handle else name


def build_definition(
    *,
    adapter_name: str,
    adapter_title: str,
    config_model: type[BaseModel],
    session_model: type[BaseModel],
    entity_name: str,
    adapter_states: Mapping[str, type[BaseModel]],
    renames: Renames,
    version: str,
    workspace_handle: str | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/admin/integrations`` (and of the update call) for one adapter.

    Raises:
        ValueError: a name, the version or a model cannot be declared (the message says which).
    """
    _check(entity_name=entity_name, version=version)
    entity_schema = wire_schema(session_model)
    return {
        "name": integration_name(adapter_name, workspace_handle),
        "version": version,
        "title": f"HITL Bridge: {adapter_title}",
        "description": (
            f"Hands conversations over to human agents in {adapter_title} through a self-hosted hitl-bridge "
            f"server (hitl interface {INTERFACE_VERSION})."
        ),
        "configuration": {"schema": configuration_schema(config_model, adapter_name)},
        "user": {"tags": tag_definitions(USER_TAGS)},
        "channels": channel_definitions(renames, adapter_title),
        "actions": action_definitions(renames, entity_schema),
        "events": event_definitions(renames),
        "states": state_definitions(adapter_states),
        "entities": {entity_name: _entity(adapter_title, entity_schema)},
        "interfaces": {interface_key(entity_name): interface_statement(renames, entity_name)},
    }


def with_interface_id(definition: Mapping[str, Any], interface_id: str) -> dict[str, Any]:
    """A copy of ``definition`` whose interface statements carry the hub's interface id.

    The Botpress CLI looks the id up (``GET /v1/admin/hub/interfaces/hitl/2.1.0``) before uploading.
    """
    completed = copy.deepcopy(dict(definition))
    for statement in completed.get("interfaces", {}).values():
        statement["id"] = interface_id
    return completed


def _entity(adapter_title: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "HITL session",
        "description": f"Options of the {adapter_title} session (ticket, conversation...) a handoff opens",
        "schema": schema,
    }


def _check(*, entity_name: str, version: str) -> None:
    if not _ENTITY_NAME.match(entity_name):
        raise ValueError(f"entity name {entity_name!r}: use letters and digits, starting with a letter")
    if not _SEMVER.match(version):
        raise ValueError(f"version {version!r} is not a semantic version (x.y.z)")
