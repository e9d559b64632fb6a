"""Team signals that change nothing stored: an agent typing in a session, an agent's record changed."""

from __future__ import annotations

from .core import Core
from .errors import NotFound
from .models import Agent
from .realtime import LiveEvent


async def typing(core: Core, agent: Agent, session_id: str) -> bool:
    """Tell the other agents who may see the session that ``agent`` is typing in it; ``False`` when the agent may
    not see it (nothing is sent). Nothing is written, so a repeat only repeats the indicator."""
    async with core.store.read() as db:
        try:
            session = await core.visible_session(db, agent, session_id)
        except NotFound:
            return False
        audience = await core.audience(db, session) - {agent.id}
    data = {"sessionId": session_id, "agent": {"id": agent.id, "name": agent.name}}
    await core.relay.publish(LiveEvent("typing", data, audience))
    return True


async def agent_changed(core: Core, agent: Agent) -> None:
    """An agent was created or changed (their status, or by an admin): every console updates its lists (Transfer
    to...) and an agent's own sockets re-check their login."""
    await core.relay.publish(LiveEvent("agent", agent.model_dump(mode="json")))
