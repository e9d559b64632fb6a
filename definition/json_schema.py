"""JSON Schemas of pydantic models in the form Botpress stores them.

Botpress's CLI uploads draft-07 schemas with every ``$ref`` inlined. Ours follow the same rules:

* property names are the wire (camelCase alias) names;
* an optional field is simply not required: the wire omits it, it never sends ``null``;
* no generated titles, no model docstrings (those are ours, not the bot builder's);
* discriminated unions become plain ``anyOf`` (each branch carries its ``const`` tag);
* a :class:`pydantic.SecretStr` field is marked ``"x-zui": {"secret": true}``, as Zod's ``.secret()`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
JsonSchema = dict[str, Any]


class _WireSchemaGenerator(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        json_schema.pop("title", None)
        json_schema.pop("description", None)
        return json_schema

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        json_schema = super().tagged_union_schema(schema)
        json_schema.pop("discriminator", None)
        if "oneOf" in json_schema:
            json_schema["anyOf"] = json_schema.pop("oneOf")
        return json_schema


def wire_schema(model: type[BaseModel]) -> JsonSchema:
    """The draft-07 JSON Schema of ``model``'s wire form, ``$ref``-free, with a ``$schema`` key."""
    generated = model.model_json_schema(by_alias=True, schema_generator=_WireSchemaGenerator)
    definitions = generated.pop("$defs", {})
    schema = _mark_secrets(inline_refs(generated, definitions))
    return {**schema, "$schema": DRAFT_07}


def inline_refs(schema: Any, definitions: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replace every ``{"$ref": "#/$defs/X", ...}`` by the definition of ``X`` (siblings win).

    Raises:
        ValueError: a definition refers to itself (a recursive model cannot be inlined).
    """
    if isinstance(schema, list):
        return [inline_refs(item, definitions, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return {key: inline_refs(value, definitions, seen) for key, value in schema.items()}
    name = ref.removeprefix("#/$defs/")
    if name in seen:
        raise ValueError(f"recursive schema {name!r} cannot be inlined")
    siblings = {key: value for key, value in schema.items() if key != "$ref"}
    resolved = inline_refs(definitions[name], definitions, (*seen, name))
    return {**resolved, **inline_refs(siblings, definitions, seen)}


def _mark_secrets(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_mark_secrets(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    marked = {key: _mark_secrets(value) for key, value in schema.items()}
    if marked.get("format") == "password" and marked.get("writeOnly") is True:
        del marked["format"], marked["writeOnly"]
        marked["x-zui"] = {**marked.get("x-zui", {}), "secret": True}
    return marked
