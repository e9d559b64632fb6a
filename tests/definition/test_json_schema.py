"""wire_schema: pydantic models as Botpress stores their schemas."""

from __future__ import annotations

from typing import Annotated, Literal

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from definition import DRAFT_07, inline_refs, wire_schema


class Inner(BaseModel):
    """Inner docstring."""

    model_config = ConfigDict(extra="forbid")

    api_token: SecretStr = Field(alias="apiToken")
    label: str | None = None


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Outer(BaseModel):
    """Outer docstring."""

    model_config = ConfigDict(extra="forbid")

    inner: Inner = Field(description="the inner part")
    inners: list[Inner] = Field(default_factory=list)
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    count: int = 3
    note: str | None = Field(default=None, max_length=10)


class Node(BaseModel):
    children: list[Node] = Field(default_factory=list)


def test_nested_models_are_inlined_with_wire_names() -> None:
    schema = wire_schema(Outer)
    assert schema["$schema"] == DRAFT_07
    assert "$defs" not in schema
    inner = schema["properties"]["inner"]
    assert inner["description"] == "the inner part"
    assert set(inner["properties"]) == {"apiToken", "label"}
    assert schema["properties"]["inners"]["items"]["properties"] == inner["properties"]


def test_titles_and_model_docstrings_are_dropped_field_descriptions_kept() -> None:
    schema = wire_schema(Outer)
    assert "title" not in schema
    assert "description" not in schema
    assert "title" not in schema["properties"]["count"]
    assert "title" not in schema["properties"]["inner"]


def test_optional_means_omittable_not_nullable() -> None:
    schema = wire_schema(Outer)
    assert schema["properties"]["note"] == {"type": "string", "maxLength": 10}
    assert "default" not in schema["properties"]["note"]
    assert schema["properties"]["count"]["default"] == 3
    assert set(schema["required"]) == {"inner", "pet"}
    assert not jsonschema.Draft7Validator(schema).is_valid(
        {"inner": {"apiToken": "t"}, "pet": {"kind": "cat"}, "note": None}
    )


def test_discriminated_unions_become_any_of() -> None:
    pet = wire_schema(Outer)["properties"]["pet"]
    assert set(pet) == {"anyOf"}
    assert [branch["properties"]["kind"]["const"] for branch in pet["anyOf"]] == ["cat", "dog"]


def test_secrets_are_marked_wherever_they_are() -> None:
    schema = wire_schema(Outer)
    for inner in (schema["properties"]["inner"], schema["properties"]["inners"]["items"]):
        token = inner["properties"]["apiToken"]
        assert token == {"type": "string", "x-zui": {"secret": True}}
    assert "x-zui" not in schema["properties"]["inner"]["properties"]["label"]


def test_a_recursive_model_cannot_be_inlined() -> None:
    with pytest.raises(ValueError, match="recursive"):
        wire_schema(Node)


def test_inline_refs_lets_siblings_win() -> None:
    definitions = {"A": {"type": "string", "description": "from A"}}
    schema = {"properties": {"a": {"$ref": "#/$defs/A", "description": "here"}}}
    assert inline_refs(schema, definitions) == {"properties": {"a": {"type": "string", "description": "here"}}}
