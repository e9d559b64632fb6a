"""Turn pydantic validation failures into InvalidPayload errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidPayloadError

ModelT = TypeVar("ModelT", bound=BaseModel)


def validate(model: type[ModelT], data: Any, where: str) -> ModelT:
    """Validate ``data``; on failure raise InvalidPayloadError naming ``where.<field>``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayloadError(describe(exc, where)) from None


def describe(exc: ValidationError, where: str, *, offset: int = 0) -> str:
    """One line naming every invalid field (at most three), e.g. ``input.userId: Field required``.

    ``offset`` is added to the first part of each location: the index of a list's item validated in a slice.
    """
    parts = []
    for error in exc.errors()[:3]:
        loc = list(error["loc"])
        if offset and loc and isinstance(loc[0], int):
            loc[0] += offset
        location = ".".join([where, *(str(part) for part in loc)]).rstrip(".")
        parts.append(f"{location}: {error['msg']}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
