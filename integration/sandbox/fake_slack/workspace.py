"""The state of a fake Slack workspace: channels, their messages and threads, users, files, ephemeral notices.

Plain data and Slack's rules about it, no HTTP: :mod:`.web_api` answers the Web API from it and :mod:`.agents`
makes people act in it. A ``ts`` is ``"<seconds>.<microseconds>"``, unique in the workspace and increasing (so
increasing per channel, as Slack's are).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

BOT_USER_ID = "UBOTHITL1"
BOT_ID = "BHITL0001"
TEAM_ID = "TFAKE0001"
DEFAULT_CHANNEL_ID = "CSUPPORT1"
DEFAULT_AGENTS = {"UAGENTBOB": "Bob Agent", "UAGENTALI": "Alice Agent"}


class SlackError(Exception):
    """A Web API error: answered ``{"ok": false, "error": code}`` with HTTP 200, as Slack does."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Channel:
    """One channel and its messages by ``ts`` (top-level and replies alike)."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = False
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The ``channel`` object of conversations.info."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_private": self.is_private,
            "is_member": self.is_member,
            "is_archived": False,
        }

    def top_level(self) -> list[dict[str, Any]]:
        """Messages that are not thread replies, oldest first."""
        return [m for ts, m in self.messages.items() if m.get("thread_ts", ts) == ts]

    def thread(self, parent_ts: str) -> list[dict[str, Any]]:
        """The parent, then its replies, oldest first."""
        if parent_ts not in self.messages:
            raise SlackError("thread_not_found")
        return [m for ts, m in self.messages.items() if ts == parent_ts or m.get("thread_ts") == parent_ts]


@dataclass
class Workspace:
    """Everything the fake holds."""

    bot_token: str
    channels: dict[str, Channel] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    files_base_url: str = "http://127.0.0.1"
    """Where the fake is reached: the base of upload URLs and of files' ``url_private``."""
    _ticks: itertools.count[int] = field(default_factory=itertools.count)
    _epoch: int = field(default_factory=lambda: int(time.time()))

    @classmethod
    def seeded(cls, bot_token: str, channel_id: str = DEFAULT_CHANNEL_ID) -> Workspace:
        """A workspace with the support channel (the bot not in it yet), a private one, the bot and two agents."""
        workspace = cls(bot_token)
        workspace.channels[channel_id] = Channel(channel_id, "support")
        workspace.channels["GPRIVATE1"] = Channel("GPRIVATE1", "private-support", is_private=True)
        workspace.add_user(BOT_USER_ID, "hitl-bridge", is_bot=True)
        for user_id, name in DEFAULT_AGENTS.items():
            workspace.add_user(user_id, name)
        return workspace

    def add_user(self, user_id: str, real_name: str, *, is_bot: bool = False) -> dict[str, Any]:
        """Add (or replace) a user; its picture is a fake URL."""
        handle = real_name.lower().replace(" ", ".")
        profile = {"real_name": real_name, "display_name": handle, "image_192": f"https://avatars.test/{user_id}.png"}
        user = {"id": user_id, "team_id": TEAM_ID, "name": handle, "real_name": real_name, "is_bot": is_bot}
        self.users[user_id] = {**user, "deleted": False, "profile": profile}
        return self.users[user_id]

    def next_ts(self) -> str:
        """A new ts, later than every earlier one."""
        tick = next(self._ticks) + 100
        return f"{self._epoch + tick // 1_000_000}.{tick % 1_000_000:06d}"

    def channel(self, channel_id: str) -> Channel:
        """The channel, or Slack's ``channel_not_found``."""
        found = self.channels.get(channel_id)
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def user(self, user_id: str) -> dict[str, Any]:
        """The user, or Slack's ``user_not_found``."""
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def add_message(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any]:
        """Store a new message (a reply when it has a ``thread_ts`` naming a message of the channel)."""
        thread_ts = message.get("thread_ts")
        if thread_ts is not None and thread_ts not in channel.messages:
            raise SlackError("thread_not_found")
        ts = self.next_ts()
        stored = {"type": "message", **message, "ts": ts, "team": TEAM_ID}
        channel.messages[ts] = stored
        if thread_ts is not None:
            parent = channel.messages[thread_ts]
            parent.setdefault("thread_ts", thread_ts)
            parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
            parent["latest_reply"] = ts
        return stored

    def message(self, channel_id: str, ts: str) -> dict[str, Any]:
        """One message, or Slack's ``message_not_found``."""
        found = self.channel(channel_id).messages.get(ts)
        if found is None:
            raise SlackError("message_not_found")
        return found
