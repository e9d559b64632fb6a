"""The live channel: a WebSocket per console tab, fed by the service's in-process hub."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from external_adapters.inbox.realtime import LiveEvent, Subscription

from .common import agent_of, error, service_of

SOCKETS = web.AppKey("console_sockets", set[web.WebSocketResponse])
HEARTBEAT_SECONDS = 25.0


async def live(request: web.Request) -> web.StreamResponse:
    """Stream ``{"type", "data"}`` events the agent may see: offers, queue changes, messages, notes."""
    agent = await agent_of(request)
    if agent is None:
        return error(401, "log in first")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    async with service_of(request).hub.subscribe(agent.id) as subscription:
        await ws.send_json({"type": "hello", "data": {"agentId": agent.id}})
        pump = asyncio.create_task(_pump(ws, subscription))
        try:
            async for message in ws:
                if message.type is WSMsgType.ERROR:
                    break
        finally:
            request.app[SOCKETS].discard(ws)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
    return ws


async def _pump(ws: web.WebSocketResponse, subscription: Subscription) -> None:
    while not ws.closed:
        event: LiveEvent = await subscription.queue.get()
        await ws.send_json({"type": event.type, "data": event.data})


async def close_sockets(app: web.Application) -> None:
    """On shutdown: close every console socket so the server can stop."""
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=1001, message=b"server shutdown")
