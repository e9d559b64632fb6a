"""``hitl-bridge definition``: print the integration definition Botpress's API takes, for one adapter."""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import TextIO

from definition import Renames, build_definition
from external_adapters.errors import UnknownAdapterError
from external_adapters.registry import get_adapter_class

UNKNOWN_VERSION = "0.0.0+unknown"


def definition_command(adapter_name: str, renames: Renames, out: TextIO) -> int:
    """Write the definition of ``adapter_name`` to ``out`` as JSON; return the exit status.

    Exit status 2, with the reason on stderr, when the adapter is unknown, cannot be imported or
    cannot be declared (a bad name, a clashing state...).
    """
    try:
        adapter = get_adapter_class(adapter_name)
        body = build_definition(
            adapter_name=adapter.name,
            adapter_title=adapter.title,
            config_model=adapter.config_model,
            session_model=adapter.session_model,
            entity_name=adapter.entity_name,
            adapter_states=adapter.states,
            renames=renames,
            version=_package_version(),
        )
    except (UnknownAdapterError, ImportError, ValueError) as exc:
        print(f"hitl-bridge: {exc}", file=sys.stderr)
        return 2
    out.write(json.dumps(body, indent=2, sort_keys=True) + "\n")
    return 0


def _package_version() -> str:
    # Not integration.cli.package_version: that module imports this one.
    try:
        return version("hitl-bridge")
    except PackageNotFoundError:
        return UNKNOWN_VERSION
