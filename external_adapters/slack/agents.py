"""Slack users as the end user sees them: the agent's name and picture, and the names mentions show.

``users.info`` is a Tier 4 read, cheap but not free: each profile is kept in the coordination memo for
:data:`PROFILE_TTL_SECONDS`, shared by every worker, so a busy thread asks Slack once an hour per agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from coordination import Coordinator

from ..errors import ExternalNotFoundError
from ..events import AgentProfile
from .client import SlackClient

PROFILE_TTL_SECONDS = 3600.0


class Agents:
    """Profiles of one workspace's users, through the memo."""

    def __init__(self, client: SlackClient, coordinator: Coordinator, workspace_key: str) -> None:
        self._client = client
        self._coordinator = coordinator
        self._prefix = f"slack-user:{workspace_key}:"

    async def profile(self, slack_user_id: str) -> AgentProfile:
        """The user's profile: ``real_name`` (display name as fallback) and ``image_192``.

        A user Slack no longer knows keeps their id as the only thing shown (no name); other failures raise, so
        the delivery is processed again later.
        """
        key = self._prefix + slack_user_id
        cached = await self._coordinator.memo_get(key)
        if cached:
            data = json.loads(cached)
            return AgentProfile(external_user_id=slack_user_id, name=data.get("name"), picture_url=data.get("picture"))
        try:
            user = await self._client.users_info(slack_user_id)
        except ExternalNotFoundError:
            return AgentProfile(external_user_id=slack_user_id)
        name, picture = user.shown_name, user.profile.image_192
        await self._coordinator.memo_set(key, json.dumps({"name": name, "picture": picture}), PROFILE_TTL_SECONDS)
        return AgentProfile(external_user_id=slack_user_id, name=name, picture_url=picture)

    async def names(self, slack_user_ids: Iterable[str]) -> dict[str, str]:
        """The names of the users a text mentions (those with a name), for :func:`.markup.to_markdown`."""
        found: dict[str, str] = {}
        for slack_user_id in slack_user_ids:
            profile = await self.profile(slack_user_id)
            if profile.name:
                found[slack_user_id] = profile.name
        return found
