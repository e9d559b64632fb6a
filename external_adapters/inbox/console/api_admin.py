"""Console API for admins: agents (change, disable, reset password), templates and labels.

Every handler here answers 403 ``admins only`` to an agent who is not an admin; authentication is the console's
(login cookie with ``X-Inbox-Client``, or a bearer login token). Retry-safety is the service's (see
:mod:`..team` and :mod:`..settings_store`): PATCH and PUT carry absolute values, creates are keyed by a unique
e-mail or shortcut, deletes of what is gone succeed.
"""

from __future__ import annotations

import functools

from aiohttp import web
from pydantic import BaseModel, Field

from ..agents import token_hash
from ..errors import Forbidden
from ..models import Agent
from ..team import AgentPatch
from .common import AgentHandler, Handler, agent_required, body_as, login_token, ok, service_of
from .live import LOGINS, close_login_sockets


class PasswordIn(BaseModel):
    password: str


class TemplateIn(BaseModel):
    shortcut: str
    title: str = ""
    text: str


class LabelsIn(BaseModel):
    labels: list[str] = Field(max_length=1000)


def admin_required(handler: AgentHandler) -> Handler:
    """Require a logged-in admin (403 ``admins only`` for other agents)."""

    @agent_required
    @functools.wraps(handler)
    async def wrapped(request: web.Request, agent: Agent) -> web.StreamResponse:
        if not agent.is_admin:
            raise Forbidden("admins only")
        return await handler(request, agent)

    return wrapped


async def _close_revoked(app: web.Application, hashes: list[str]) -> None:
    """Close this worker's live sockets of the revoked logins now (other workers' close at their login check)."""
    revoked = set(hashes)
    for token in [t for t in app[LOGINS] if token_hash(t) in revoked]:
        await close_login_sockets(app, token)


@admin_required
async def patch_agent(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Change an agent's name, role, groups or disabled flag (absolute values)."""
    patch = await body_as(request, AgentPatch)
    agent, revoked = await service_of(request).team.update(admin, request.match_info["agent_id"], patch)
    await _close_revoked(request.app, revoked)
    return ok(agent)


@admin_required
async def reset_password(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Set a new password; the agent's logins end."""
    body = await body_as(request, PasswordIn)
    team = service_of(request).team
    revoked = await team.reset_password(admin, request.match_info["agent_id"], body.password, login_token(request))
    await _close_revoked(request.app, revoked)
    return ok({"ok": True})


@admin_required
async def list_templates(request: web.Request, admin: Agent) -> web.StreamResponse:
    """The templates as stored (placeholders not filled)."""
    return ok(await service_of(request).settings.templates())


@admin_required
async def create_template(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Add a template: 201, or 200 with the same template for a repeat of the same request."""
    body = await body_as(request, TemplateIn)
    template, created = await service_of(request).settings.create_template(body.shortcut, body.title, body.text)
    return ok(template, status=201 if created else 200)


@admin_required
async def update_template(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Replace a template's shortcut, title and text."""
    body = await body_as(request, TemplateIn)
    settings = service_of(request).settings
    return ok(await settings.update_template(request.match_info["template_id"], body.shortcut, body.title, body.text))


@admin_required
async def delete_template(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Delete a template."""
    await service_of(request).settings.delete_template(request.match_info["template_id"])
    return ok({"ok": True})


@agent_required
async def labels(request: web.Request, agent: Agent) -> web.StreamResponse:
    """The labels agents may put on sessions (every agent may read them)."""
    return ok(await service_of(request).settings.labels())


@admin_required
async def set_labels(request: web.Request, admin: Agent) -> web.StreamResponse:
    """Replace the list of labels."""
    body = await body_as(request, LabelsIn)
    return ok(await service_of(request).settings.set_labels(body.labels))
