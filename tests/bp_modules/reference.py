"""The reference JSON Schemas of the hitl interface (copied from the shared specs), and how to use them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel, ValidationError

SPECS = Path(__file__).resolve().parent.parent / "specs" / "botpress"
HITL = "hitl-2.1.0-integration.schema.json"
HITL_RENAMED = "hitl-2.1.0-integration-renamed.schema.json"
HISTORY_ELEMENT = "message-history-element.schema.json"
PAYLOADS = "message-payloads.schema.json"

# Modest example counts: these run in CI with everything else.
FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@cache
def _load(name: str) -> str:
    return (SPECS / name).read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a reference file (callers may mutate it)."""
    loaded: dict[str, Any] = json.loads(_load(name))
    return loaded


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid instances of ``schema``, drawing a ``messageHistory`` from its own item schema.

    hypothesis-jsonschema re-canonicalises nested schemas on every draw: drawing the history apart
    is the same distribution at a fraction of the cost.
    """
    history = schema.get("properties", {}).get("messageHistory")
    if not history:
        return from_schema(schema)
    rest = {**schema, "properties": {**schema["properties"], "messageHistory": {"type": "array", "maxItems": 0}}}
    items = st.lists(from_schema(history["items"]), max_size=2)
    return st.builds(lambda data, drawn: {**data, "messageHistory": drawn}, from_schema(rest), items)


def is_valid(schema: dict[str, Any], instance: Any) -> bool:
    """jsonschema's draft-07 verdict."""
    return bool(jsonschema.Draft7Validator(schema).is_valid(instance))


def as_the_sdk_parses(schema: Any) -> Any:
    """``schema`` with every ``additionalProperties: false`` lifted: what the SDK accepts at run time.

    The generated schemas say ``additionalProperties: false``, but the SDK validates with the zod schemas they
    were generated from, and a zod object strips unknown keys instead of refusing them. Lifting the keyword
    gives the same verdicts, ``anyOf`` branches included (a zod union takes the first branch that parses).
    The models must drop those keys; the tests check that too.
    """
    if isinstance(schema, list):
        return [as_the_sdk_parses(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    lifted = {key: as_the_sdk_parses(value) for key, value in schema.items()}
    if lifted.get("additionalProperties") is False:
        del lifted["additionalProperties"]
    return lifted


def sdk_accepts(schema: dict[str, Any], instance: Any) -> bool:
    """Whether the SDK accepts ``instance`` (see :func:`as_the_sdk_parses`)."""
    return is_valid(as_the_sdk_parses(schema), instance)


def model_accepts(model: type[BaseModel], instance: Any) -> bool:
    """Whether ``model`` accepts ``instance`` as wire data."""
    try:
        model.model_validate(instance)
    except ValidationError:
        return False
    return True


def strip_keys(schema: Any, keys: frozenset[str] = frozenset({"description", "x-zui", "title"})) -> Any:
    """``schema`` without annotation keywords that do not change what validates."""
    if isinstance(schema, list):
        return [strip_keys(item, keys) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: strip_keys(value, keys) for key, value in schema.items() if key not in keys}


def object_schemas(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema inside ``schema`` (by a readable path), the root included."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield path or "(root)", schema
        for key, value in schema.items():
            yield from object_schemas(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from object_schemas(item, f"{path}[{index}]")
