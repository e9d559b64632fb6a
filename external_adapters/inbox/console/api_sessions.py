"""Console API: login, the agent's own status, the queue, views, and actions on one session."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from ..config import AgentStatus
from ..errors import InvalidInput
from ..models import Agent, QueueFilter
from ..service import InboxService
from ..throttle import TooManyAttempts
from .api_conversation import idempotency_key
from .common import COOKIE, EDGE, Handler, agent_required, body_as, error, json_errors, login_token, ok, service_of
from .live import close_login_sockets


class LoginIn(BaseModel):
    email: str = Field(min_length=3)
    password: str = Field(min_length=1)


class StatusIn(BaseModel):
    status: AgentStatus


class TextIn(BaseModel):
    text: str = Field(min_length=1)


class TransferIn(BaseModel):
    agent: str = Field(min_length=1, description="Id or e-mail of the agent taking over")


class ListIn(BaseModel):
    values: list[str]


class ViewIn(BaseModel):
    name: str = Field(min_length=1)
    filters: dict[str, str]
    shared: bool = False


@json_errors
async def login(request: web.Request) -> web.StreamResponse:
    """Check e-mail and password; set the login cookie and return the token (for API clients).

    Only ``application/json`` is taken: a cross-site page can post a form or text without the browser asking
    first, but not JSON. Failures are throttled per account and per client address: 429 with ``Retry-After``.
    """
    if request.content_type != "application/json":
        return error(415, "send the login as JSON (Content-Type: application/json)")
    service, body = service_of(request), await body_as(request, LoginIn)
    try:
        agent = await service.agents.authenticate(body.email, body.password, client_address(request))
    except TooManyAttempts as exc:
        refused = error(429, str(exc))
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if agent is None:
        return error(401, "wrong e-mail or password")
    if agent.disabled:  # said only to whoever knows the password
        return error(401, "this account is disabled")
    return await _logged_in(request, service, agent)


def client_address(request: web.Request) -> str | None:
    """The client's address: the peer's, or, when ``HITL_BRIDGE_TRUST_FORWARDED_FOR`` says a reverse proxy
    sets it, the last ``X-Forwarded-For`` entry (the one that proxy added; earlier ones are the client's word)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if request.app[EDGE].trust_forwarded_for and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.remote


async def _logged_in(request: web.Request, service: InboxService, agent: Agent) -> web.StreamResponse:
    if agent.status == "offline":
        agent = await service.actions.set_status(agent, "available")
    token = await service.agents.issue_token(agent.id)
    response = ok({"agent": agent, "token": token})
    secure = (request.app[EDGE].public_url or "").startswith("https://")
    max_age = int(service.options.login_hours * 3600)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, max_age=max_age, path="/")
    return response


@agent_required
async def logout(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Forget the login (its live sockets close) and go offline."""
    service, token = service_of(request), login_token(request)
    if token:  # agent_required found the agent by this very token
        await service.agents.revoke_token(token)
        await close_login_sockets(request.app, token)
    await service.actions.set_status(agent, "offline")
    response = ok({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


@agent_required
async def me(request: web.Request, agent: Agent) -> web.StreamResponse:
    """The agent, and what the console needs to draw itself (labels, statuses)."""
    labels = await service_of(request).settings.labels()
    return ok({"agent": agent, "labels": labels, "statuses": ["available", "busy", "offline"]})


@agent_required
async def set_status(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Change the agent's own status."""
    body = await body_as(request, StatusIn)
    return ok(await service_of(request).actions.set_status(agent, body.status))


def _filter(request: web.Request) -> QueueFilter:
    query = {k: v for k, v in request.query.items() if v and k in QueueFilter.model_fields}
    try:
        return QueueFilter.model_validate(query)
    except ValueError as exc:
        raise InvalidInput("query", str(exc).splitlines()[0]) from None


@agent_required
async def queue(request: web.Request, agent: Agent) -> web.StreamResponse:
    """The sessions the agent may see, filtered by ``state``, ``tag``, ``label``, ``assigned``, ``search`` (also
    in message text), sorted by ``sort`` (``activity``, the default, or ``waiting``)."""
    return ok(await service_of(request).queries.queue(agent, _filter(request)))


@agent_required
async def counts(request: web.Request, agent: Agent) -> web.StreamResponse:
    """``{"waiting", "unread"}`` over the sessions the agent may see."""
    return ok(await service_of(request).queue.counts(agent))


@agent_required
async def mark_read(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Mark the session read for the agent (idempotent: the mark only moves forward); ``{"unread": 0}``."""
    return ok(await service_of(request).queue.mark_read(agent, request.match_info["session_id"]))


@agent_required
async def views(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Configured and saved views."""
    return ok(await service_of(request).queries.views(agent))


@agent_required
async def save_view(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Save the current filters as a view."""
    body = await body_as(request, ViewIn)
    view = await service_of(request).queries.save_view(agent, body.name, body.filters, shared=body.shared)
    return ok(view, status=201)


@agent_required
async def delete_view(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Delete one of the agent's views."""
    await service_of(request).queries.delete_view(agent, request.match_info["view_id"])
    return ok({"ok": True})


@agent_required
async def detail(request: web.Request, agent: Agent) -> web.StreamResponse:
    """A session with contact, transcript, live messages and notes."""
    return ok(await service_of(request).queries.detail(agent, request.match_info["session_id"]))


Verb = Literal["claim", "reject", "resolve"]


def _verb(verb: Verb) -> Handler:
    @agent_required
    async def handler(request: web.Request, agent: Agent) -> web.StreamResponse:
        action = getattr(service_of(request).actions, verb)
        return ok(await action(agent, request.match_info["session_id"]))

    handler.__doc__ = f"{verb.title()} the session."
    return handler


claim, reject, resolve = _verb("claim"), _verb("reject"), _verb("resolve")


@agent_required
async def reply(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Write to the end user (retry-safe with an ``Idempotency-Key`` header: a repeat answers the first message)."""
    key, body = idempotency_key(request), await body_as(request, TextIn)
    actions = service_of(request).actions
    return ok(await actions.reply(agent, request.match_info["session_id"], body.text, key), status=201)


@agent_required
async def transfer(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Hand the session to another agent."""
    body = await body_as(request, TransferIn)
    return ok(await service_of(request).actions.transfer(agent, request.match_info["session_id"], body.agent))


@agent_required
async def set_labels(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Replace the session's labels."""
    body = await body_as(request, ListIn)
    return ok(await service_of(request).actions.set_labels(agent, request.match_info["session_id"], body.values))


@agent_required
async def set_tags(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Replace the session's rule tags (admins)."""
    body = await body_as(request, ListIn)
    return ok(await service_of(request).actions.set_rule_tags(agent, request.match_info["session_id"], body.values))


@agent_required
async def templates(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Templates, filled in for the contact named by ``contactName``."""
    return ok(await service_of(request).queries.templates(agent, request.query.get("contactName")))
