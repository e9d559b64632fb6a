"""Slack Web API answers, as far as the adapter reads them (unknown fields are ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SESSION_EVENT = "hitl_bridge_session"
"""Metadata event type of a handoff's parent message: ``{"key": <idempotency key>}``."""
MESSAGE_EVENT = "hitl_bridge_message"
"""Metadata event type of an end-user message: ``{"bp_message_id": ...}``."""
TRANSCRIPT_EVENT = "hitl_bridge_transcript"
"""Metadata event type of a transcript overflow reply: ``{"key": ..., "part": n}``."""
NOTICE_EVENT = "hitl_bridge_notice"
"""Metadata event type of a notice the bridge posts in a thread: ``{"kind": "closed"}``."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Metadata(_Wire):
    """Slack message metadata: what the bridge posts on every message, and reads back after a lost answer."""

    event_type: str
    event_payload: dict[str, Any] = Field(default_factory=dict)


class AuthTest(_Wire):
    """``auth.test``: who the token is."""

    user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    url: str | None = None


class Channel(_Wire):
    """``conversations.info`` / ``conversations.join``: a channel and the bot's place in it."""

    id: str
    name: str | None = None
    is_private: bool = False
    is_member: bool = False
    is_archived: bool = False


class FileShare(_Wire):
    """Where a file was shared: its message ``ts`` (and thread)."""

    ts: str
    thread_ts: str | None = None


class SlackFile(_Wire):
    """A file as Slack describes it."""

    id: str
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    size: int | None = None
    url_private: str | None = None
    url_private_download: str | None = None
    shares: dict[str, dict[str, list[FileShare]]] = Field(default_factory=dict)
    """``{"public"|"private": {channel_id: [share, ...]}}``"""

    def share_ts(self, channel_id: str) -> str | None:
        """The ``ts`` of the message that shared this file in ``channel_id``, when Slack says already."""
        for by_channel in self.shares.values():
            for share in by_channel.get(channel_id, []):
                return share.ts
        return None


class Message(_Wire):
    """A message of a channel or a thread."""

    ts: str
    type: str | None = None
    subtype: str | None = None
    text: str | None = None
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    metadata: Metadata | None = None
    files: list[SlackFile] = Field(default_factory=list)

    def marked(self, event_type: str, **payload: Any) -> bool:
        """Whether this message carries the bridge's metadata ``event_type`` with ``payload``'s items."""
        meta = self.metadata
        if meta is None or meta.event_type != event_type:
            return False
        return all(meta.event_payload.get(name) == value for name, value in payload.items())


class Posted(_Wire):
    """``chat.postMessage`` / ``chat.update``: where the message is."""

    channel: str
    ts: str


class Page(_Wire):
    """A page of ``conversations.history`` or ``conversations.replies``."""

    messages: list[Message] = Field(default_factory=list)
    has_more: bool = False
    next_cursor: str | None = None


class UploadTicket(_Wire):
    """``files.getUploadURLExternal``: where to send the bytes, and the file id to complete."""

    upload_url: str
    file_id: str


class UserProfile(_Wire):
    """A Slack user's profile, as far as the bridge shows it."""

    real_name: str | None = None
    display_name: str | None = None
    image_192: str | None = None


class SlackUser(_Wire):
    """``users.info``: a Slack user."""

    id: str
    name: str | None = None
    real_name: str | None = None
    is_bot: bool = False
    profile: UserProfile = Field(default_factory=UserProfile)

    @property
    def shown_name(self) -> str:
        """The name agents know: real name, else display name, else the handle, else the id."""
        profile = self.profile
        return profile.real_name or self.real_name or profile.display_name or self.name or self.id
