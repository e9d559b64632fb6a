"""Per-installation configuration and the ``hitlSession`` entity (the Studio card) of the Slack adapter.

Wire names are camelCase (``botToken``, ``channelId``...). Studio sends an empty string for a card field left
blank: optional fields treat ``""`` as unset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

DEFAULT_API_BASE_URL = "https://slack.com/api"
CHANNEL_ID_PATTERN = r"^[CG][A-Z0-9]{2,30}$"
MAX_TAGS = 20
MAX_TAG_LENGTH = 80


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _check_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def _check_token(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().startswith("xoxb-"):
        raise ValueError("must be a bot token (xoxb-...)")
    return value


def _check_tags(value: list[str]) -> list[str]:
    if len(value) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for tag in value:
        if not tag.strip() or len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tag {tag!r} must be 1 to {MAX_TAG_LENGTH} characters")
    return [tag.strip() for tag in value]


Blankable = BeforeValidator(_blank_to_none)
Url = Annotated[str, AfterValidator(_check_url)]
ChannelId = Annotated[str, Field(pattern=CHANNEL_ID_PATTERN, description="A channel id, e.g. C0123ABC")]
Tags = Annotated[list[str], AfterValidator(_check_tags)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore", str_strip_whitespace=True
    )


class SlackConfig(_Model):
    """How to reach one Slack workspace and where handoffs go."""

    bot_token: Annotated[SecretStr, AfterValidator(_check_token)] = Field(description="Bot token, xoxb-...")
    signing_secret: SecretStr = Field(min_length=1, description="The app's signing secret")
    channel_id: ChannelId = Field(description="The channel where handoffs are posted")
    api_base_url: Annotated[Url | None, Blankable] = Field(default=None, description="Override of the Web API URL")
    mention: Annotated[str | None, Blankable] = Field(
        default=None, max_length=200, description="Put in each handoff message, e.g. <!here> or <!subteam^S123>"
    )
    post_as_end_user: bool = Field(
        default=True, description="Post end-user messages under their name and picture (chat:write.customize)"
    )
    allowed_channel_ids: list[ChannelId] = Field(
        default_factory=list, description="Channels a card may choose instead of channelId"
    )

    @property
    def api_url(self) -> str:
        """Where API calls go (``apiBaseUrl``, else Slack's), without a trailing slash."""
        return self.api_base_url or DEFAULT_API_BASE_URL

    def base_url_problem(self, *, custom_allowed: bool) -> tuple[str, str] | None:
        """The field to blame when ``apiBaseUrl`` leaves Slack's URL and the process does not allow it.

        The bot token goes wherever ``apiBaseUrl`` points, and the configuration is anyone's who can edit the bot:
        by default it cannot point elsewhere (``HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS`` opts in), as Zendesk's baseUrl.
        """
        if custom_allowed or self.api_url.lower() == DEFAULT_API_BASE_URL:
            return None
        return "apiBaseUrl", (
            f"only {DEFAULT_API_BASE_URL} is allowed: the server must set HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS=true "
            "to use another URL"
        )

    def channel_for(self, card: SlackSession) -> str | None:
        """The channel a handoff with ``card`` goes to, or ``None`` when the card names a channel not allowed."""
        wanted = card.channel_id
        if wanted is None or wanted == self.channel_id:
            return self.channel_id
        return wanted if wanted in self.allowed_channel_ids else None


class SlackSession(_Model):
    """The ``hitlSession`` entity: what the Studio card may set on the handoff."""

    priority: Annotated[Literal["low", "normal", "high", "urgent"] | None, Blankable] = None
    tags: Tags = Field(default_factory=list)
    channel_id: Annotated[ChannelId | None, Blankable] = Field(
        default=None, description="Post this handoff here instead (channelId or one of allowedChannelIds)"
    )
