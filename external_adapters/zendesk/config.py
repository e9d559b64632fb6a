"""Per-installation configuration and the ``hitlTicket`` entity (the Studio card) of the Zendesk adapter.

Wire names are camelCase (``apiToken``, ``closeStatus``...). Studio sends an empty string for a card
field left blank: optional fields treat ``""`` as unset.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SUBDOMAIN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_TAG = re.compile(r"^[^\s,]+$")
MAX_TAG_LENGTH = 80


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address like agent@example.com")
    return value


def _check_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def _check_tags(value: list[str]) -> list[str]:
    for tag in value:
        if not _TAG.match(tag) or len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tag {tag!r} must be one word (no spaces or commas), at most {MAX_TAG_LENGTH} characters")
    return [tag.lower() for tag in value]


Email = Annotated[str, AfterValidator(_check_email)]
Url = Annotated[str, AfterValidator(_check_url)]
Tags = Annotated[list[str], AfterValidator(_check_tags)]
Blankable = BeforeValidator(_blank_to_none)
PositiveId = Annotated[int, Field(gt=0, le=2**63 - 1)]  # Zendesk ids are 64-bit: a bigger number names nothing
Name = Annotated[str, Field(max_length=255)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore", str_strip_whitespace=True
    )


class ZendeskConfig(_Model):
    """How to reach one Zendesk account. Auth: ``email`` + ``apiToken``, or ``accessToken`` (OAuth)."""

    subdomain: Annotated[str, Field(pattern=_SUBDOMAIN, description="acme for https://acme.zendesk.com")]
    email: Annotated[Email | None, Blankable] = Field(default=None, description="Agent email, with apiToken")
    api_token: Annotated[SecretStr | None, Blankable] = Field(default=None, description="Zendesk API token")
    access_token: Annotated[SecretStr | None, Blankable] = Field(default=None, description="OAuth bearer token")
    base_url: Annotated[Url | None, Blankable] = Field(default=None, description="Override of the account URL")
    tags: Tags = Field(default_factory=list, description="Tags added to every ticket")
    close_status: Literal["solved", "closed"] = Field(default="solved", description="Status stopHitl sets")
    ignore_non_hitl_tickets: bool = Field(
        default=True, description="Triggers fire only for tickets this integration opened"
    )

    @property
    def account_url(self) -> str:
        """The account's own URL, ``https://<subdomain>.zendesk.com``."""
        return f"https://{self.subdomain}.zendesk.com"

    @property
    def api_base_url(self) -> str:
        """Where API calls go (``baseUrl``, else the account's URL), without a trailing slash."""
        return self.base_url or self.account_url

    def base_url_problem(self, *, custom_allowed: bool) -> tuple[str, str] | None:
        """The field to blame when ``baseUrl`` leaves the account's URL and the process does not allow it.

        Credentials go wherever ``baseUrl`` points, and the configuration is anyone's who can edit the bot: by
        default it cannot point at the bridge's own network (``HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS`` opts in).
        """
        if custom_allowed or self.api_base_url.lower() == self.account_url:
            return None
        return "baseUrl", (
            f"only {self.account_url} is allowed: the server must set HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS=true "
            "to use another URL"
        )

    def auth_problem(self) -> tuple[str, str] | None:
        """The field to blame when the credentials are not exactly one complete method, else ``None``."""
        token_auth = self.api_token is not None or self.email is not None
        if token_auth and self.access_token is not None:
            return "accessToken", "give either email + apiToken or accessToken, not both"
        if self.access_token is not None:
            return None
        if self.api_token is None:
            return "apiToken", "required (with email), unless accessToken is given"
        if self.email is None:
            return "email", "required with apiToken"
        return None


class CustomField(_Model):
    """One ticket custom field value, as Zendesk takes it."""

    id: PositiveId
    value: str | int | float | bool | list[str] | None


class ZendeskSession(_Model):
    """The ``hitlTicket`` entity: what the Studio card may set on the ticket."""

    priority: Annotated[Literal["low", "normal", "high", "urgent"] | None, Blankable] = None
    type: Annotated[Literal["question", "incident", "problem", "task"] | None, Blankable] = None
    tags: Tags = Field(default_factory=list)
    group_id: Annotated[PositiveId | None, Blankable] = None
    assignee_email: Annotated[Email | None, Blankable] = None
    ticket_form_id: Annotated[PositiveId | None, Blankable] = None
    custom_fields: list[CustomField] = Field(default_factory=list)
    requester_name: Annotated[Name | None, Blankable] = None
    requester_email: Annotated[Email | None, Blankable] = None
    chatbot_name: Annotated[Name | None, Blankable] = None
    chatbot_photo_url: Annotated[Url | None, Blankable] = None
    transcript_visibility: Literal["public", "internal"] = "public"
