"""What the installed integration declares (the hitl interface, with renames): Botpress checks what it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from bp_modules.hitl import HITL_MESSAGE_TYPES, HitlAssigned, HitlStopped, parse_hitl_payload
from definition.renames import Renames
from integration.sandbox.store import Record

from .errors import invalid_payload


@dataclass(frozen=True)
class IntegrationDefinition:
    """The channel and events of a hitl integration, under the names it uses on the wire."""

    renames: Renames = field(default_factory=Renames)

    @property
    def channel(self) -> str:
        """The hitl channel's wire name."""
        return self.renames.channel

    def event_name(self, interface_name: str) -> str:
        """The wire name of ``hitlAssigned`` or ``hitlStopped``."""
        return self.renames.event(interface_name)

    def check_message(self, conversation: Record, type: str, payload: dict[str, Any]) -> None:
        """A 400 unless ``type``/``payload`` is a message of the conversation's channel."""
        if conversation.get("channel") != self.channel:
            return
        if type not in HITL_MESSAGE_TYPES:
            raise invalid_payload(f"type: {type!r} is not a message type of channel {self.channel!r}")
        try:
            parse_hitl_payload(type, payload)
        except ValidationError as exc:
            raise invalid_payload(f"payload.{_where(exc)}") from None

    def check_event(self, event_type: str, payload: dict[str, Any]) -> None:
        """A 400 unless ``event_type`` is a declared event and ``payload`` matches its schema."""
        models: dict[str, type[BaseModel]] = {
            self.event_name("hitlAssigned"): HitlAssigned,
            self.event_name("hitlStopped"): HitlStopped,
        }
        model = models.get(event_type)
        if model is None:
            raise invalid_payload(f"type: the integration declares no event {event_type!r} (known: {sorted(models)})")
        try:
            model.model_validate(payload)
        except ValidationError as exc:
            raise invalid_payload(f"payload.{_where(exc)}") from None


def _where(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return ".".join(str(part) for part in error["loc"]) + f": {error['msg']}"
