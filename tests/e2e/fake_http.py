"""What the fake vendors over HTTP share: loopback only, and the aiohttp request as the httpx one to check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from aiohttp import web

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DROPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse anyone but this machine."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer or peer[0] not in LOOPBACK:
        raise web.HTTPForbidden()
    return await handler(request)


async def as_httpx(request: web.Request, url: str) -> httpx.Request:
    """The aiohttp request as the :class:`httpx.Request` the client built (headers, raw body), sent to ``url``
    (with its query)."""
    body = await request.read()
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED_HEADERS]
    return httpx.Request(request.method, url, headers=headers, content=body or None)
