"""Console API: agents, contacts, notes and outbound messages."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from ..errors import Forbidden
from ..models import Agent, Role
from ..signals import agent_changed
from .api_sessions import ListIn, TextIn
from .common import agent_required, body_as, ok, service_of


class AgentIn(BaseModel):
    email: str
    password: str
    name: str | None = None
    role: Role = "agent"
    groups: list[str] = Field(default_factory=list)


@agent_required
async def agents(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Every agent (for transfer and presence)."""
    return ok(await service_of(request).agents.all())


@agent_required
async def create_agent(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Create an agent (admins)."""
    if not agent.is_admin:
        raise Forbidden("only admins create agents")
    body = await body_as(request, AgentIn)
    created = await service_of(request).agents.create(
        body.email, body.password, name=body.name, role=body.role, groups=body.groups
    )
    await agent_changed(service_of(request).core, created)
    return ok(created, status=201)


@agent_required
async def set_groups(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Replace an agent's groups (admins)."""
    if not agent.is_admin:
        raise Forbidden("only admins change groups")
    body = await body_as(request, ListIn)
    changed = await service_of(request).agents.set_groups(request.match_info["agent_id"], body.values)
    await agent_changed(service_of(request).core, changed)
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
