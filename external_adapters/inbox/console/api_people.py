"""Console API: agents, contacts, notes and outbound messages."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from ..errors import Forbidden
from ..models import Agent, Role
from ..team import AgentExists, AgentPatch
from .api_sessions import ListIn, TextIn
from .common import agent_required, body_as, error, ok, service_of


class AgentIn(BaseModel):
    email: str
    password: str
    name: str | None = None
    role: Role = "agent"
    groups: list[str] = Field(default_factory=list)


@agent_required
async def agents(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Every agent for admins; the enabled ones for others (for transfer and presence)."""
    return ok(await service_of(request).team.listed_for(agent))


@agent_required
async def create_agent(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Create an agent (admins). A repeat (same e-mail) is a 409 naming the existing agent (``agent_id``)."""
    if not agent.is_admin:
        raise Forbidden("admins only")
    body = await body_as(request, AgentIn)
    try:
        created = await service_of(request).team.create(
            body.email, body.password, name=body.name, role=body.role, groups=body.groups
        )
    except AgentExists as exc:
        return error(409, str(exc), field="email", agent_id=exc.agent_id)
    return ok(created, status=201)


@agent_required
async def set_groups(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Replace an agent's groups (admins)."""
    if not agent.is_admin:
        raise Forbidden("admins only")
    body = await body_as(request, ListIn)
    patch = AgentPatch(groups=body.values)
    changed, _ = await service_of(request).team.update(agent, request.match_info["agent_id"], patch)
    return ok(changed)


@agent_required
async def contacts(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Contacts the agent may see, matching ``search``."""
    return ok(await service_of(request).queries.contacts(agent, request.query.get("search")))


@agent_required
async def contact(request: web.Request, agent: Agent) -> web.StreamResponse:
    """A contact's profile, notes and sessions."""
    return ok(await service_of(request).queries.contact_profile(agent, request.match_info["contact_id"]))


@agent_required
async def add_note(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Add a note to a contact."""
    body = await body_as(request, TextIn)
    return ok(
        await service_of(request).actions.add_note(agent, request.match_info["contact_id"], body.text), status=201
    )


@agent_required
async def set_contact_tags(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Replace a contact's visibility tags (admins)."""
    body = await body_as(request, ListIn)
    await service_of(request).actions.set_contact_tags(agent, request.match_info["contact_id"], body.values)
    return ok({"ok": True})


@agent_required
async def outbound(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Start a conversation: write to the contact's last Botpress conversation."""
    body = await body_as(request, TextIn)
    return ok(
        await service_of(request).actions.outbound(agent, request.match_info["contact_id"], body.text), status=201
    )
