"""The Slack adapter's HTTP edge (aiohttp): agents' files, re-served at signed URLs (``/slack/files/<key>``).

Mounted through the ``hitl_bridge.routes`` entry point (:func:`mount`), whatever ``HITL_BRIDGE_CONSOLE`` says: the
links are given to end users, and must work on a server that shows no pages. A URL is honoured only with a valid,
unexpired signature (:meth:`~external_adapters.slack.files_in.FileStore.check`); the answer carries the stored content
type, the file's name, ``nosniff`` and a sandboxing CSP, so a file an agent shares is never run as a page of the
bridge.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from aiohttp import web

from external_adapters.extensions import WebEdge, WebParts

from ..files_in import FileStore

EDGE = web.AppKey("slack_files_edge", WebEdge)
INLINE_PREFIXES = ("image/", "audio/", "video/")


def mount(app: web.Application, edge: WebEdge) -> WebParts:
    """The ``hitl_bridge.routes`` hook: add ``GET /slack/files/{file_key}``."""
    app[EDGE] = edge
    app.router.add_get("/slack/files/{file_key}", serve_file)
    return WebParts(error_prefixes=("/slack/",))


async def serve_file(request: web.Request) -> web.StreamResponse:
    """One stored file: 403 for a bad or expired signature, 404 for an unknown key, 503 before start-up."""
    edge = request.app[EDGE]
    # A worker that has served no Slack operation yet starts the adapter (its file store) for the first link.
    backend = await edge.started() if edge.started is not None else edge.backend()
    store = getattr(backend, "files", None)
    if not isinstance(store, FileStore):
        return _error(503, "the Slack adapter is not running")
    file_key = request.match_info["file_key"]
    if not store.check(file_key, request.query.get("expires", ""), request.query.get("sig", ""), time.time()):
        return _error(403, "this link is invalid or has expired")
    stored = await store.get(file_key)
    if stored is None:
        return _error(404, "no such file")
    return web.Response(body=stored.content, headers=_headers(stored.name, stored.content_type))


def _headers(name: str, content_type: str) -> dict[str, str]:
    disposition = "inline" if content_type.startswith(INLINE_PREFIXES) else "attachment"
    return {
        "Content-Type": content_type,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=3600",
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "code": status}, status=status)
