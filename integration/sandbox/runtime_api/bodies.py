"""Request bodies of the emulated endpoints, as strict as the Runtime OpenAPI 1.70.2 (unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel

from .errors import ApiError, invalid_payload

TagValue = Annotated[str, StringConstraints(max_length=500)]
Tags = dict[str, TagValue]
BotpressId = Annotated[str, StringConstraints(min_length=28, max_length=36)]
Name = Annotated[str, StringConstraints(max_length=200)]
PictureUrl = Annotated[str, StringConstraints(max_length=40000)]
Expiry = Annotated[float, Field(ge=1, le=2_592_000_000)]


class Body(BaseModel):
    """Base of the bodies: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True)


class Schedule(Body):
    date_time: Annotated[str, StringConstraints(min_length=24, max_length=28)] | None = None
    delay: float | None = None


class CreateUser(Body):
    tags: Tags
    integration_name: Name | None = None
    name: Name | None = None
    picture_url: PictureUrl | None = None


class GetOrCreateUser(CreateUser):
    discriminate_by_tags: list[TagValue] | None = None


class UpdateUser(Body):
    tags: Tags | None = None
    name: Name | None = None
    picture_url: PictureUrl | None = None


class CreateConversation(Body):
    channel: Name
    tags: Tags
    integration_name: Name | None = None


class GetOrCreateConversation(CreateConversation):
    discriminate_by_tags: list[TagValue] | None = None


class UpdateConversation(Body):
    current_task_id: str | None = None
    tags: Tags | None = None


class CreateMessage(Body):
    payload: dict[str, Any]
    user_id: BotpressId
    conversation_id: BotpressId
    type: Name
    tags: Tags
    schedule: Schedule | None = None
    origin: Literal["synthetic"] | None = None


class GetOrCreateMessage(CreateMessage):
    discriminate_by_tags: list[TagValue] | None = None


class UpdateMessage(Body):
    tags: Tags
    payload: dict[str, Any] | None = None


class CreateEvent(Body):
    type: Name
    payload: dict[str, Any]
    schedule: Schedule | None = None
    conversation_id: BotpressId | None = None
    user_id: BotpressId | None = None
    workflow_id: BotpressId | None = None
    message_id: BotpressId | None = None


class SetState(Body):
    payload: dict[str, Any] | None
    expiry: Expiry | None = None


class GetOrSetState(Body):
    payload: dict[str, Any]
    expiry: Expiry | None = None


class PatchState(Body):
    payload: dict[str, Any]


class ConfigureIntegration(Body):
    identifier: Name | None = None
    schedule_register_call: (
        Literal["hourly", "daily", "weekly", "bi-weekly", "monthly", "bi-monthly", "quarterly", "yearly"] | None
    ) = None
    sandbox_identifiers: dict[str, Any] | None = None


BodyT = TypeVar("BodyT", bound=Body)


def parse_body(model: type[BodyT], data: dict[str, Any]) -> BodyT:
    """``data`` validated as ``model``, or a 400 ``InvalidPayload`` naming the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first_problem(exc) from None


def _first_problem(exc: ValidationError) -> ApiError:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "extra_forbidden":
        return invalid_payload(f"{field}: unknown field")
    return invalid_payload(f"{field}: {error['msg']}")
