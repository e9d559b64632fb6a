"""Configuration of the inbox: per installation, per session (the ``hitlInboxSession`` card), per process.

* :class:`InboxConfig` comes from the installation's configuration (``x-bp-configuration``).
* :class:`InboxSession` is the Studio card: routing, visibility and contact fields.
* :class:`InboxOptions` is the process configuration, from ``HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__*``.
  List and mapping options may be given as JSON strings, since environment variables are strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

AgentStatus = Literal["available", "busy", "offline"]
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
_LISTISH = ("labels", "templates", "redaction", "messages", "views")


class InboxConfig(BaseModel):
    """Per-installation settings of the inbox."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    language: str = Field(default="en", pattern=LANGUAGE_PATTERN, description="Language of messages to end users")
    default_rule_tags: list[str] = Field(
        default_factory=list, alias="defaultRuleTags", description="Rule tags added to every session"
    )


class InboxSession(BaseModel):
    """The ``hitlInboxSession`` card: who may take the session, and who the end user is.

    Action input like the rest of ``startHitl``: unknown keys are dropped, as the SDK's zod schemas drop them.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    claim_statuses: list[AgentStatus] = Field(
        default_factory=lambda: list[AgentStatus](["available"]),
        alias="claimStatuses",
        min_length=1,
        description="Agent statuses allowed to claim the session",
    )
    target_agent: str | None = Field(
        default=None, alias="targetAgent", description="E-mail or id of the one agent asked to take it (no fan-out)"
    )
    claim_timeout_seconds: int = Field(
        default=300, alias="claimTimeoutSeconds", ge=1, le=86400, description="How long the session waits for a claim"
    )
    rule_tags: list[str] = Field(default_factory=list, alias="ruleTags", description="Visibility rule tags")
    language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN, description="Language of the end user")
    contact_email: str | None = Field(default=None, alias="contactEmail")
    contact_phone: str | None = Field(default=None, alias="contactPhone")
    contact_name: str | None = Field(default=None, alias="contactName")


class Template(BaseModel):
    """A canned reply; ``{{agentName}}`` and ``{{contactName}}`` are filled in when used."""

    model_config = ConfigDict(frozen=True)

    shortcut: str = Field(pattern=r"^[\w-]{1,40}$")
    text: str = Field(min_length=1)
    title: str | None = None


class RedactionRule(BaseModel):
    """A pattern replaced before anything is stored."""

    model_config = ConfigDict(frozen=True)

    name: str
    pattern: str
    replacement: str = "[redacted]"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


PRESET_RULES: dict[str, RedactionRule] = {
    "card_number": RedactionRule(
        name="card_number", pattern=r"\b(?:\d[ -]?){12,18}\d\b", replacement="[card number redacted]"
    ),
    "email": RedactionRule(name="email", pattern=r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", replacement="[email redacted]"),
    "phone": RedactionRule(name="phone", pattern=r"\+\d[\d ().-]{7,}\d", replacement="[phone redacted]"),
}


class MessageTexts(BaseModel):
    """What the end user is told, in one language. ``{{agentName}}`` is filled in; empty means say nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assigned: str | None = None
    transferred: str | None = None
    no_agents: str | None = None
    not_available: str | None = None
    rejected: str | None = None
    timeout: str | None = None


DEFAULT_TEXTS = MessageTexts(
    assigned="You are now chatting with {{agentName}}.",
    transferred="You are being transferred to {{agentName}}.",
    no_agents="Sorry, no agent can take this conversation.",
    not_available="Sorry, no agent is available right now. Please try again later.",
    rejected="Sorry, the agent could not take this conversation.",
    timeout="Sorry, no agent answered in time. Please try again later.",
)


class SavedView(BaseModel):
    """A queue view every agent sees: a name and the filters it applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    state: Literal["NEEDS_ACTION", "ASSIGNED", "CLOSED"] | None = None
    tag: str | None = None
    label: str | None = None


class InboxOptions(BaseModel):
    """Process-wide options of the inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path | None = Field(default=None, description="Overrides the adapter data dir (<data_dir>/inbox)")
    admin_email: str | None = Field(default=None, description="First admin, created at start-up if missing")
    admin_password: SecretStr | None = None
    admin_token: SecretStr | None = Field(default=None, description="Bearer token of the admin API")
    labels: list[str] = Field(default_factory=lambda: ["billing", "bug", "feedback", "urgent"])
    templates: list[Template] = Field(default_factory=list)
    redaction: list[RedactionRule] = Field(default_factory=lambda: [PRESET_RULES["card_number"]])
    messages: dict[str, MessageTexts] = Field(default_factory=dict)
    default_language: str = Field(default="en", pattern=LANGUAGE_PATTERN)
    views: list[SavedView] = Field(default_factory=list)
    system_name: str = Field(default="Support", description="Author name of system messages")
    signature_tolerance_seconds: int = Field(default=300, ge=1)
    delivery_base_seconds: float = Field(default=1.0, gt=0)
    delivery_max_seconds: float = Field(default=300.0, gt=0)
    delivery_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a worker holds an outbox row it delivers; a crashed worker's rows wait this long",
    )
    delivery_give_up_seconds: float = Field(
        default=3600.0, gt=0, description="After this long of failed deliveries an agent message shows as failed"
    )
    timeout_poll_seconds: float = Field(default=1.0, gt=0)
    login_hours: float = Field(default=12.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _decode_json_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: _maybe_json(key, value) for key, value in data.items()}
        return data

    @field_validator("redaction", mode="before")
    @classmethod
    def _presets(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_preset(item) for item in value]
        return value

    def texts_for(self, language: str) -> MessageTexts:
        """The texts of ``language``, falling back key by key to the default language, then to English."""
        chain = [self.messages.get(language), self.messages.get(self.default_language), DEFAULT_TEXTS]
        merged: dict[str, str | None] = {}
        for name in MessageTexts.model_fields:
            merged[name] = next((getattr(t, name) for t in chain if t and getattr(t, name) is not None), None)
        return MessageTexts(**merged)


def _maybe_json(key: str, value: Any) -> Any:
    if key in _LISTISH and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _preset(item: Any) -> Any:
    if isinstance(item, str):
        if item not in PRESET_RULES:
            raise ValueError(f"unknown redaction preset {item!r}; presets: {', '.join(sorted(PRESET_RULES))}")
        return PRESET_RULES[item]
    return item
