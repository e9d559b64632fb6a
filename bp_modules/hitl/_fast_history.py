"""The fast wire validator of a ``messageHistory`` chunk: no Python call per item on the common path.

:class:`HistoryMessage` picks its payload's model by the sibling ``type`` in a Python field validator, which
pydantic-core cannot express. Here the same choice is a tagged union on ``type``: one branch per message type,
each a :class:`HistoryMessage` model whose ``payload`` is that type's payload model, compiled with the wire rules
(:mod:`._fast_wire`). The items built are :class:`HistoryMessage` instances, equal to the model's own.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from ._fast_wire import build_compiled
from .actions import HistoryMessage
from .messages import PAYLOAD_MODELS


def _branch(message_type: str, payload_model: type[Any]) -> dict[str, Any]:
    model = dict(HistoryMessage.__pydantic_core_schema__)
    fields_schema = dict(model["schema"]["schema"])  # inside the wire hook, which compiling removes anyway
    fields = dict(fields_schema["fields"])
    fields["type"] = {**fields["type"], "schema": {"type": "literal", "expected": [message_type]}}
    fields["payload"] = {**fields["payload"], "schema": payload_model.__pydantic_core_schema__}
    model["schema"] = {**fields_schema, "fields": fields}
    model.pop("ref", None)  # twelve branches of one class: refs must be unique
    return model


def _history_list() -> SchemaValidator:
    choices = {message_type: _branch(message_type, model) for message_type, model in PAYLOAD_MODELS.items()}
    items = {"type": "tagged-union", "choices": choices, "discriminator": "type"}
    return build_compiled({"type": "list", "items_schema": items})


_FAST = _history_list()  # built at import: its build lowers the models' completeness flag for a moment
_OWN: TypeAdapter[list[HistoryMessage]] = TypeAdapter(list[HistoryMessage])


def validate_history(items: list[Any], context: dict[str, Any]) -> list[HistoryMessage]:
    """``items`` validated as ``messageHistory`` items on the wire (``context`` holds the wire key).

    Raises:
        ValidationError: the error of :class:`HistoryMessage`'s own validator, naming the item and the field.
    """
    try:
        return _FAST.validate_python(items, by_name=False)  # type: ignore[no-any-return]
    except ValidationError:
        return _OWN.validate_python(items, context=context, by_name=False)
