"""The base of every hitl model: parsed on the wire as the Botpress SDK parses, convenient in Python.

Two ways in, two sets of rules:

* ``Model.model_validate(data)`` / ``model_validate_json`` parse what Botpress sent, as the SDK's zod
  schemas do at run time: camelCase keys only, unknown keys dropped (zod objects strip them), and an
  optional field is omitted, never ``null`` (Zod's ``.optional()`` rejects ``null`` too). A wrong type or
  a missing required field is still an error naming the field.
* ``Model(field_name=...)`` builds a model in Python: snake_case names work, ``None`` means "absent",
  and an unknown keyword is an error (our own code has no excuse for one).

Serialise back to the wire with ``model_dump(mode="json", by_alias=True, exclude_none=True)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Final, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

_WIRE = "bp_modules.hitl.wire"
WIRE_CONTEXT: Final[Mapping[str, Any]] = MappingProxyType({_WIRE: True})
"""The validation context of wire data, for a validator called directly (a ``TypeAdapter`` of wire models):
pass ``context=dict(WIRE_CONTEXT)`` with ``by_name=False``."""


def _wire_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("by_name", False)
    if kwargs["by_name"] is False:
        kwargs["context"] = {**(kwargs.get("context") or {}), _WIRE: True}
    return kwargs


def is_wire(info: ValidationInfo) -> bool:
    """Whether the validation in progress parses wire data (see the module docstring)."""
    return isinstance(info.context, dict) and info.context.get(_WIRE) is True


class WireModel(BaseModel):
    """A frozen model that parses wire data by its camelCase aliases and drops unknown wire keys.

    Dropping, not refusing: the HITL plugin passes earlier messages back verbatim in ``messageHistory``,
    with the ``type`` and ``userId`` it put inside their payloads, and channels add keys of their own.
    ``extra="forbid"`` still guards construction in Python (a misspelt keyword is an error) and makes the
    published JSON Schema say ``additionalProperties: false``, as the SDK's generated schemas do.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Parse wire data: camelCase keys only, no ``null`` (pass ``by_name=True`` to relax)."""
        return super().model_validate(obj, **_wire_kwargs(kwargs))

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Parse wire JSON with the rules of :meth:`model_validate`."""
        return super().model_validate_json(json_data, **_wire_kwargs(kwargs))

    @model_validator(mode="before")
    @classmethod
    def _as_the_sdk_parses(cls, data: Any, info: ValidationInfo) -> Any:
        # Called for every model of every message: the checks are inlined, the common case returns early.
        context = info.context
        if not (isinstance(data, dict) and isinstance(context, dict) and context.get(_WIRE) is True):
            return data
        known = _wire_keys(cls)
        if data.keys() <= known and None not in data.values():
            return data  # the common case (every key known, no null): nothing to strip or refuse, no copy
        nulls = [key for key, value in data.items() if value is None and key in known]
        if nulls:
            raise ValidationError.from_exception_data(cls.__name__, [_null_error(key) for key in nulls])
        # A zod object strips unknown keys, whatever their value (snake_case names included: not wire names).
        return {key: value for key, value in data.items() if key in known}


@cache
def _wire_keys(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items())


def _null_error(key: Any) -> InitErrorDetails:
    error = PydanticCustomError("null_not_allowed", "Input should be omitted rather than null")
    return {"type": error, "loc": (str(key),), "input": None}


def validate_nested(model: type[WireModel], value: Any, info: ValidationInfo) -> WireModel:
    """Validate ``value`` as ``model`` with the rules (wire or Python) of the validation in progress."""
    if is_wire(info):
        # Straight to the core validator, as model_validate would go: the context already says "wire".
        return cast(WireModel, model.__pydantic_validator__.validate_python(value, context=info.context, by_name=False))
    return model.model_validate(value, by_name=True, context=info.context)
