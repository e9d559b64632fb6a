"""Wire validators with no Python on their path: the wire rules compiled into pydantic-core.

:class:`~bp_modules.hitl._base.WireModel` enforces the SDK's wire rules (unknown keys dropped, ``null`` refused on
an optional field) in a Python before-validator that runs for every nested model: three calls per text message,
about nine per mixed one, most of the cost of a long ``messageHistory``. :func:`compile_wire` derives, from a
model's own core schema, one where pydantic-core applies the same rules itself: ``extra`` is ``ignore`` (what the
before-validator's stripping does) and an optional field's ``nullable`` wrapper is removed (``null`` is then an
error, as the before-validator makes it one). Every other validator of the schema is kept
(:mod:`._fast_history` replaces ``HistoryMessage``'s own by a tagged union).

Both accept the same input and build the same models; their errors differ (the fast one says "valid string"
where the model says "omitted rather than null"). So a caller answers with the fast validator and, on any
error, validates again with the model's own, whose error is raised: the verdicts, the models and the messages of
``model_validate``, at a fraction of the cost of a valid input (``tests/bp_modules/test_fast_history.py`` compares
the two on generated and mutated input).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaValidator

_WIRE_HOOK = "_as_the_sdk_parses"


def _is_wire_hook(schema: dict[str, Any]) -> bool:
    if schema.get("type") != "function-before" or not isinstance(schema.get("function"), dict):
        return False
    return getattr(schema["function"].get("function"), "__name__", None) == _WIRE_HOOK


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    # An optional wire field: `default(None, nullable(inner))` becomes `default(None, inner)`.
    inner = schema["schema"]
    if schema.get("default", ...) is None and inner.get("type") == "nullable":
        return {**schema, "schema": inner["schema"]}
    return schema


def compile_wire(schema: Any) -> Any:
    """``schema`` (a core schema, or any part of one) with the wire rules moved into pydantic-core."""
    if isinstance(schema, list):
        return [compile_wire(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if _is_wire_hook(schema):
        return compile_wire(schema["schema"])
    if schema.get("type") == "default":
        schema = _without_null(schema)
    compiled = {key: compile_wire(value) for key, value in schema.items()}
    if compiled.get("type") == "model-fields":
        compiled["extra_behavior"] = "ignore"
    if compiled.get("type") == "model" and "config" in compiled:
        compiled["config"] = {**compiled["config"], "extra_fields_behavior": "ignore"}
    return compiled


def _models_in(schema: Any) -> Iterator[type[BaseModel]]:
    if isinstance(schema, list):
        for item in schema:
            yield from _models_in(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "model":
            yield schema["cls"]
        for value in schema.values():
            yield from _models_in(value)


@contextmanager
def _own_schemas(schema: Any) -> Iterator[None]:
    """Make pydantic-core build ``schema``'s models from it, not reuse each class's prebuilt validator.

    pydantic-core replaces a ``model`` schema by the class's own ``__pydantic_validator__`` (hooks and all) when
    the class's ``__dict__`` says ``__pydantic_complete__``: that flag is lowered while the validator is built
    (at import, once), and restored. The models built are still of the same classes.
    """
    models = set(_models_in(schema))
    for model in models:
        model.__pydantic_complete__ = False
    try:
        yield
    finally:
        for model in models:
            model.__pydantic_complete__ = True


def build_compiled(schema: Any) -> SchemaValidator:
    """A validator of ``schema`` compiled with the wire rules, its models built from it (not prebuilt)."""
    compiled = compile_wire(schema)
    with _own_schemas(compiled):
        return SchemaValidator(compiled)
