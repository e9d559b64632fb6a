"""The two lookups of every helpdesk event, cached in the coordination memo (shared by the workers, kept through
restarts): the Botpress conversation of a helpdesk session, and the Botpress user of a helpdesk agent.

* A session's conversation never changes once linked (a new handoff is a new session): the memo keeps the
  conversation as last read, for what :func:`.takeover.wait_for_plugin` needs of it (its tags, whether the HITL
  plugin took it; its ``createdAt``). It is refreshed once the plugin's tag shows up, so the wait costs nothing
  after the first event. A session that is not one of ours is never kept: its conversation may be linked a
  moment later. startHitl seeds it (:func:`remember_conversation`) when it links a session.
* An agent's user is kept with the name and picture it was made with: an event whose agent has another name or
  picture makes or updates the user again (:func:`agent_user_id`).

A memo entry that expired or was purged only costs the lookup again.
"""

from __future__ import annotations

import json

from definition.tags import CONVERSATION_ID_TAG, USER_EMAIL_TAG, USER_ID_TAG
from external_adapters import AgentProfile

from ..botpress import Conversation, User
from ..services import Deps
from .once import agent_memo, session_conversation_memo

CONVERSATION_TTL_SECONDS = 90 * 24 * 3600.0
"""A linked conversation never changes: kept for longer than a session stays open, in practice."""
AGENT_TTL_SECONDS = 7 * 24 * 3600.0
"""An agent's Botpress user: re-checked weekly even if their name and picture stay the same."""


async def conversation_of(deps: Deps, external_session_id: str) -> Conversation | None:
    """The Botpress conversation of a helpdesk session (memo, else by its ``id`` tag), or ``None``: not ours."""
    cached = await deps.services.coordinator.memo_get(session_conversation_memo(deps.ctx, external_session_id))
    if cached is not None:
        return Conversation.model_validate_json(cached)
    found = await deps.botpress.list_conversations(
        channel=deps.services.settings.renames.channel, tags={CONVERSATION_ID_TAG: external_session_id}, max_pages=1
    )
    if not found:
        return None
    await remember_conversation(deps, external_session_id, found[0])
    return found[0]


async def remember_conversation(deps: Deps, external_session_id: str, conversation: Conversation) -> None:
    """Keep ``conversation`` as the one of helpdesk session ``external_session_id``, for every worker.

    startHitl calls it once it has linked the session, so the session's first helpdesk event looks nothing up.
    Idempotent: it only ever stores the one conversation of the session.
    """
    key = session_conversation_memo(deps.ctx, external_session_id)
    await deps.services.coordinator.memo_set(key, conversation.model_dump_json(by_alias=True), CONVERSATION_TTL_SECONDS)


async def agent_user_id(deps: Deps, agent: AgentProfile) -> str:
    """The id of the agent's Botpress user (tag ``id``): the memo's while the agent's name and picture are the
    ones it was made with; otherwise made or updated (:func:`agent_user`) and kept again."""
    key = agent_memo(deps.ctx, agent.external_user_id)
    cached = await deps.services.coordinator.memo_get(key)
    if cached is not None:
        known = json.loads(cached)
        if not _stale(agent, known.get("name"), known.get("pictureUrl")):
            return str(known["id"])
    user = await agent_user(deps, agent)
    value = json.dumps({"id": user.id, "name": user.name, "pictureUrl": user.picture_url})
    await deps.services.coordinator.memo_set(key, value, AGENT_TTL_SECONDS)
    return user.id


async def agent_user(deps: Deps, agent: AgentProfile) -> User:
    """The agent's Botpress user (tag ``id``), created on first sight and kept up to date.

    Retry-safe: a get-or-create on the ``id`` tag, then an update (a PUT) only when the name or picture differ.
    """
    tags = {USER_ID_TAG: agent.external_user_id}
    if agent.email:
        tags[USER_EMAIL_TAG] = agent.email
    user = await deps.botpress.get_or_create_user(
        tags=tags, name=agent.name, picture_url=agent.picture_url, discriminate_by_tags=[USER_ID_TAG]
    )
    if _stale(agent, user.name, user.picture_url):
        user = await deps.botpress.update_user(user.id, name=agent.name, picture_url=agent.picture_url)
    return user


def _stale(agent: AgentProfile, name: str | None, picture_url: str | None) -> bool:
    """Whether a user with this name and picture no longer shows the agent as the helpdesk does."""
    return bool((agent.name and name != agent.name) or (agent.picture_url and picture_url != agent.picture_url))
