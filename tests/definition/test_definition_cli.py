"""``hitl-bridge definition``: looks the adapter up and prints its definition."""

from __future__ import annotations

import io
import json

import jsonschema
import pytest

from definition import Renames
from external_adapters.registry import BUILTIN_ADAPTERS, register_adapter
from integration.definition_cli import definition_command
from tests.definition.adapters import ClashingStateAdapter, DeskAdapter

register_adapter(DeskAdapter, clobber=True)
register_adapter(ClashingStateAdapter, clobber=True)


def test_prints_the_definition_as_sorted_indented_json() -> None:
    out = io.StringIO()
    assert definition_command("definition-test", Renames(), out) == 0
    text = out.getvalue()
    body = json.loads(text)
    assert text == json.dumps(body, indent=2, sort_keys=True) + "\n"
    assert body["name"] == "hitl-bridge-definition-test"
    assert body["configuration"]["schema"]["properties"]["adapter"]["const"] == "definition-test"
    assert set(body["entities"]) == {"ticket"}
    assert set(body["states"]) == {"hitlStart", "hitlSession", "credentials"}


def test_renames_reach_the_printed_definition() -> None:
    out = io.StringIO()
    renames = Renames(actions={"startHitl": "createTicket"}, events={"hitlStopped": "ticketClosed"}, channel="ticket")
    assert definition_command("definition-test", renames, out) == 0
    body = json.loads(out.getvalue())
    assert "createTicket" in body["actions"]
    assert "ticketClosed" in body["events"]
    assert set(body["channels"]) == {"ticket"}


def test_an_unknown_adapter_is_exit_status_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert definition_command("no-such-desk", Renames(), out) == 2
    assert out.getvalue() == ""
    error = capsys.readouterr().err
    assert "unknown adapter 'no-such-desk'" in error
    assert "definition-test" in error  # the message lists what is available


def test_an_adapter_that_cannot_be_declared_is_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert definition_command("definition-clash", Renames(), out) == 2
    assert out.getvalue() == ""
    assert "hitlSession" in capsys.readouterr().err


@pytest.mark.parametrize("adapter_name", sorted(BUILTIN_ADAPTERS))
def test_the_built_in_adapters_can_be_declared(adapter_name: str) -> None:
    out = io.StringIO()
    assert definition_command(adapter_name, Renames(), out) == 0
    body = json.loads(out.getvalue())
    assert body["name"] == f"hitl-bridge-{adapter_name}"
    schemas = [body["configuration"]["schema"], *(entity["schema"] for entity in body["entities"].values())]
    schemas += [state["schema"] for state in body["states"].values()]
    for schema in schemas:
        jsonschema.Draft7Validator.check_schema(schema)
