"""Optional renames of the interface's actions, events and channel, honoured on the wire."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bp_modules.hitl import ACTION_NAMES, CHANNEL_NAME, EVENT_NAMES


class Renames(BaseModel):
    """Interface name -> the name this integration uses, e.g. ``{"startHitl": "createTicket"}``."""

    model_config = ConfigDict(frozen=True)

    actions: Mapping[str, str] = Field(default_factory=dict)
    events: Mapping[str, str] = Field(default_factory=dict)
    channel: str = CHANNEL_NAME

    @model_validator(mode="after")
    def _known_names(self) -> Renames:
        for kind, names, known in (("actions", self.actions, ACTION_NAMES), ("events", self.events, EVENT_NAMES)):
            unknown = sorted(set(names) - set(known))
            if unknown:
                raise ValueError(f"renames.{kind}: unknown interface names {unknown}; known: {list(known)}")
            if len(set(names.values()) | (set(known) - set(names))) < len(known):
                raise ValueError(f"renames.{kind}: two names would collide")
        return self

    def action(self, interface_name: str) -> str:
        """The wire name of an interface action."""
        return self.actions.get(interface_name, interface_name)

    def event(self, interface_name: str) -> str:
        """The wire name of an interface event."""
        return self.events.get(interface_name, interface_name)

    def interface_action(self, wire_name: str) -> str | None:
        """The interface action a wire name stands for, or ``None``."""
        for name in ACTION_NAMES:
            if self.action(name) == wire_name:
                return name
        return None
