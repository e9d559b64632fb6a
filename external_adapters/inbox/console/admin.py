"""The admin API (``/admin/api``): token-authenticated session management, for scripts and ops."""

from __future__ import annotations

import re

from aiohttp import web

from ..errors import InvalidInput
from ..models import SessionState
from ..signals import agent_changed
from .api_people import AgentIn
from .common import Handler, admin_token_required, body_as, ok, service_of

_LIMIT = re.compile(r"[0-9]{1,4}")


@admin_token_required
async def list_sessions(request: web.Request) -> web.StreamResponse:
    """Sessions, newest first; ``?state=NEEDS_ACTION|ASSIGNED|CLOSED`` and ``?limit=`` filter them."""
    state = request.query.get("state")
    if state and state not in SessionState.__members__:
        raise InvalidInput("state", f"must be one of {', '.join(SessionState.__members__)}")
    return ok({"sessions": await service_of(request).queries.all_sessions(state, _limit(request))})


def _limit(request: web.Request) -> int:
    # ASCII digits only: str.isdigit() accepts "²", which int() refuses.
    limit = request.query.get("limit", "500")
    if not _LIMIT.fullmatch(limit) or not 1 <= int(limit) <= 5000:
        raise InvalidInput("limit", "must be a number from 1 to 5000")
    return int(limit)


@admin_token_required
async def export(request: web.Request) -> web.StreamResponse:
    """The session's transcript: JSON by default, ``?format=text`` for plain text."""
    exported = await service_of(request).queries.export(request.match_info["session_id"])
    if request.query.get("format") == "text":
        return web.Response(text=exported["text"] + "\n", content_type="text/plain")
    return ok(exported)


def _pause(paused: bool) -> Handler:
    @admin_token_required
    async def handler(request: web.Request) -> web.StreamResponse:
        return ok(await service_of(request).actions.set_paused(request.match_info["session_id"], paused))

    handler.__doc__ = "Pause the session (hold agent messages)." if paused else "Unpause (release held messages)."
    return handler


pause, unpause = _pause(True), _pause(False)


@admin_token_required
async def create_agent(request: web.Request) -> web.StreamResponse:
    """Create an agent or admin."""
    body = await body_as(request, AgentIn)
    agent = await service_of(request).agents.create(
        body.email, body.password, name=body.name, role=body.role, groups=body.groups
    )
    await agent_changed(service_of(request).core, agent)
    return ok(agent, status=201)


@admin_token_required
async def list_agents(request: web.Request) -> web.StreamResponse:
    """Every agent."""
    return ok({"agents": await service_of(request).agents.all()})
