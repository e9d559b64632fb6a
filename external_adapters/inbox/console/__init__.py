"""The agent console of the built-in inbox, and the inbox's admin API: the inbox's HTTP edge (aiohttp).

The server mounts it through the ``hitl_bridge.web`` entry point (:func:`mount`), without naming the inbox:

* ``/console``: the single-page console (static HTML, CSS and JavaScript ES modules; no build step), also served
  at ``/console/sessions/{id}`` (the page opens that session);
* ``/console/api/...``: its JSON API (login cookie or ``Authorization: Bearer <login token>``);
* ``/console/api/live``: the WebSocket live channel;
* ``/admin/api/...``: the token-authenticated admin API (see ``docs/inbox.md``).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from external_adapters.extensions import WebEdge, WebParts

from . import admin, api_admin, api_conversation, api_people, api_sessions
from .common import EDGE, Handler
from .live import LOGINS, SOCKETS, close_sockets, live

STATIC_DIR = Path(__file__).parent / "static"


async def index(request: web.Request) -> web.StreamResponse:
    """The console page."""
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def admin_page(request: web.Request) -> web.StreamResponse:
    """The admin screens (the page itself asks the API who is signed in)."""
    return web.FileResponse(STATIC_DIR / "admin.html", headers={"Cache-Control": "no-cache"})


def mount(app: web.Application, edge: WebEdge) -> WebParts:
    """The ``hitl_bridge.web`` hook: add the console, its API, the live channel and the admin API to ``app``."""
    app[EDGE] = edge
    app[SOCKETS] = set()
    app[LOGINS] = {}
    app.on_shutdown.append(close_sockets)
    router = app.router
    router.add_get("/console", index)
    router.add_get("/console/", index)
    router.add_get("/console/admin", admin_page)
    router.add_get("/console/admin/{section:agents|templates|labels|views}", admin_page)
    router.add_get("/console/sessions/{session_id}", index)  # a deep link: the page opens that session
    router.add_static("/console/static", STATIC_DIR, name="console_static")
    _console_api(app)
    _admin_api(app)
    return WebParts(links=[("/console", "Agent console: answer the handoffs")], error_prefixes=("/console/", "/admin/"))


def _console_api(app: web.Application) -> None:
    s, p, prefix = api_sessions, api_people, "/console/api"
    routes = [
        ("POST", "/login", s.login),
        ("POST", "/logout", s.logout),
        ("GET", "/me", s.me),
        ("PUT", "/me/status", s.set_status),
        ("GET", "/queue", s.queue),
        ("GET", "/counts", s.counts),
        ("POST", "/sessions/{session_id}/read", s.mark_read),
        ("GET", "/views", s.views),
        ("POST", "/views", s.save_view),
        ("DELETE", "/views/{view_id}", s.delete_view),
        ("GET", "/templates", s.templates),
        ("GET", "/sessions/{session_id}", s.detail),
        ("POST", "/sessions/{session_id}/claim", s.claim),
        ("POST", "/sessions/{session_id}/reject", s.reject),
        ("POST", "/sessions/{session_id}/resolve", s.resolve),
        ("POST", "/sessions/{session_id}/messages", s.reply),
        ("POST", "/sessions/{session_id}/messages/{message_id}/retry", api_conversation.retry),
        ("POST", "/sessions/{session_id}/attachments", api_conversation.attach),
        ("POST", "/sessions/{session_id}/transfer", s.transfer),
        ("PUT", "/sessions/{session_id}/labels", s.set_labels),
        ("PUT", "/sessions/{session_id}/tags", s.set_tags),
        ("GET", "/agents", p.agents),
        ("POST", "/agents", p.create_agent),
        ("PUT", "/agents/{agent_id}/groups", p.set_groups),
        ("GET", "/contacts", p.contacts),
        ("GET", "/contacts/{contact_id}", p.contact),
        ("POST", "/contacts/{contact_id}/notes", p.add_note),
        ("PUT", "/contacts/{contact_id}/tags", p.set_contact_tags),
        ("POST", "/contacts/{contact_id}/messages", p.outbound),
        ("GET", "/live", live),
        *_admin_routes(),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, prefix + path, handler)
    # Last under the prefix: unknown paths and wrong methods answer JSON (see api_conversation.UnknownPaths).
    known = [(method, prefix + path) for method, path, _ in routes]
    app.router.add_route("*", prefix + "/{tail:.*}", api_conversation.unknown_paths(known))


def _admin_routes() -> list[tuple[str, str, Handler]]:
    a = api_admin
    return [
        ("PATCH", "/agents/{agent_id}", a.patch_agent),
        ("POST", "/agents/{agent_id}/password", a.reset_password),
        ("GET", "/labels", a.labels),
        ("GET", "/admin/templates", a.list_templates),
        ("POST", "/admin/templates", a.create_template),
        ("PUT", "/admin/templates/{template_id}", a.update_template),
        ("DELETE", "/admin/templates/{template_id}", a.delete_template),
        ("PUT", "/admin/labels", a.set_labels),
    ]


def _admin_api(app: web.Application) -> None:
    prefix = "/admin/api"
    app.router.add_get(prefix + "/sessions", admin.list_sessions)
    app.router.add_get(prefix + "/sessions/{session_id}/transcript", admin.export)
    app.router.add_post(prefix + "/sessions/{session_id}/pause", admin.pause)
    app.router.add_post(prefix + "/sessions/{session_id}/unpause", admin.unpause)
    app.router.add_get(prefix + "/agents", admin.list_agents)
    app.router.add_post(prefix + "/agents", admin.create_agent)
