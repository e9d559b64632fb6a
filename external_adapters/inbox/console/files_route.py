"""The inbox's signed file links, ``GET /console/files/<key>``, mounted whatever ``HITL_BRIDGE_CONSOLE`` says
(``hitl_bridge.routes``): the end user's browser and Botpress fetch an agent's attachment there, without a login."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from external_adapters.extensions import WebEdge, WebParts

from ..files import IMAGE_TYPES, load_file
from ..service import InboxService
from .api_conversation import unknown_paths
from .common import error

FILES_EDGE = web.AppKey("inbox_files_edge", WebEdge)


def mount(app: web.Application, edge: WebEdge) -> WebParts:
    """The ``hitl_bridge.routes`` hook: the file route, and JSON 404/405 for anything else under ``/console/files/``."""
    app[FILES_EDGE] = edge
    app.router.add_get("/console/files/{file_key}", serve_file)
    app.router.add_route("*", "/console/files/{tail:.*}", unknown_paths([("GET", "/console/files/{file_key}")]))
    return WebParts(error_prefixes=("/console/files/",))


async def serve_file(request: web.Request) -> web.StreamResponse:
    """An attachment at its signed link (no login): 403 for a bad or expired signature, 404 for an unknown key (or in
    a process that does not run the inbox)."""
    edge = request.app[FILES_EDGE]
    # Never started from here: a stranger's request must not start the inbox in a process that does not run it.
    backend = edge.backend()
    if not isinstance(backend, InboxService):  # a process that does not run the inbox has none of its files
        return error(404, "no such file")
    file_key, query = request.match_info["file_key"], request.query
    if not await backend.core.files.check(file_key, query.get("expires", ""), query.get("sig", ""), backend.clock()):
        return error(403, "this link is invalid or has expired")
    stored = await load_file(backend.store, file_key)
    if stored is None:
        return error(404, "no such file")
    return web.Response(body=stored.data, headers=_file_headers(stored.filename, stored.content_type))


def _file_headers(name: str, content_type: str) -> dict[str, str]:
    disposition = "inline" if content_type in IMAGE_TYPES else "attachment"
    return {
        "Content-Type": content_type,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=86400",
    }
