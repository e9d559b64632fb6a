"""The live channel: a WebSocket per console tab, fed by the service's in-process hub.

A socket lives as long as the login it was opened with: the server closes it (code :data:`LOGIN_ENDED`) when
the login expires, and at once when the agent signs out with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from ..models import Agent
from ..realtime import LiveEvent, Subscription
from ..service import InboxService
from ..signals import typing
from .common import agent_of, error, login_token, service_of

SOCKETS = web.AppKey("console_sockets", set[web.WebSocketResponse])
LOGINS = web.AppKey("console_login_sockets", dict[str, set[web.WebSocketResponse]])
HEARTBEAT_SECONDS = 25.0
LOGIN_CHECK_SECONDS = 30.0
"""How often an open socket checks that its login still stands (a revoked or expired token closes it)."""
TYPING_EVERY_SECONDS = 1.0
"""The fewest seconds between two relayed typing signals of one socket and session (the console sends every 2 s)."""
LOGIN_ENDED = 4401
"""Close code of a socket whose login expired or was signed out (the console then shows its login form)."""


async def live(request: web.Request) -> web.StreamResponse:
    """Stream ``{"type", "data"}`` events the agent may see: offers, queue changes, messages, notes."""
    agent, token = await agent_of(request), login_token(request)
    if agent is None or token is None:
        return error(401, "log in first")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    request.app[LOGINS].setdefault(token, set()).add(ws)
    try:
        await _stream(ws, service_of(request), agent, token)
    finally:
        _forget(request.app, ws, token)
    return ws


async def _stream(ws: web.WebSocketResponse, service: InboxService, agent: Agent, token: str) -> None:
    async with service.hub.subscribe(agent.id) as subscription:
        await ws.send_json({"type": "hello", "data": {"agentId": agent.id}})
        watch = _LoginWatch(ws, service, token)
        pump = asyncio.create_task(_pump(ws, subscription, agent.id, watch.recheck))
        watcher = asyncio.create_task(watch.run())
        try:
            client = _ClientMessages(service, agent)
            async for message in ws:
                if message.type is WSMsgType.ERROR:
                    break
                if message.type is WSMsgType.TEXT:
                    await client.receive(message.data)
        finally:
            # A watcher that is closing the socket is left to finish the closing handshake.
            await _cancel([pump] if watch.closing else [pump, watcher])
            if watch.closing:
                await watcher


async def _pump(ws: web.WebSocketResponse, subscription: Subscription, agent_id: str, recheck: asyncio.Event) -> None:
    while not ws.closed:
        event: LiveEvent = await subscription.queue.get()
        if event.type == "agent" and event.data.get("id") == agent_id:
            # An admin changed this account, maybe on another worker (disabled it, reset its password): check the
            # login now rather than at the next LOGIN_CHECK_SECONDS.
            recheck.set()
        await ws.send_json({"type": event.type, "data": event.data})


class _ClientMessages:
    """What a console sends up the socket: ``{"type": "typing", "sessionId": id}``, relayed to the other agents who
    may see the session, at most once per :data:`TYPING_EVERY_SECONDS` per session. Anything else is ignored."""

    def __init__(self, service: InboxService, agent: Agent) -> None:
        self.service, self.agent = service, agent
        self._last: dict[str, float] = {}

    async def receive(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("type") != "typing":
            return
        session_id = message.get("sessionId")
        if not isinstance(session_id, str) or len(session_id) > 100:
            return
        now = self.service.clock()
        if now - self._last.get(session_id, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
            return
        self._last[session_id] = now
        await typing(self.service.core, self.agent, session_id)


class _LoginWatch:
    """Closes the socket once its login no longer stands: it wakes at the login's expiry, or every
    :data:`LOGIN_CHECK_SECONDS` (a token revoked elsewhere, an agent removed)."""

    def __init__(self, ws: web.WebSocketResponse, service: InboxService, token: str) -> None:
        self.ws, self.service, self.token = ws, service, token
        self.closing = False
        self.recheck = asyncio.Event()

    async def run(self) -> None:
        while not self.ws.closed:
            expires_at = await self.service.agents.login_expiry(self.token)
            if expires_at is None:
                self.closing = True
                await self.ws.close(code=LOGIN_ENDED, message=b"login ended")
                return
            await self._sleep(min(LOGIN_CHECK_SECONDS, max(expires_at - self.service.clock(), 0.0) + 0.001))

    async def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or until :attr:`recheck` is set."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.recheck.wait()
        self.recheck.clear()


def _forget(app: web.Application, ws: web.WebSocketResponse, token: str) -> None:
    app[SOCKETS].discard(ws)
    sockets = app[LOGINS].get(token, set())
    sockets.discard(ws)
    if not sockets:
        app[LOGINS].pop(token, None)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def close_login_sockets(app: web.Application, token: str) -> None:
    """The login ``token`` was signed out: close the sockets opened with it."""
    sockets = list(app[LOGINS].get(token, ()))
    await asyncio.gather(*(ws.close(code=LOGIN_ENDED, message=b"signed out") for ws in sockets))


async def close_sockets(app: web.Application) -> None:
    """On shutdown: close every console socket so the server can stop."""
    sockets = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=1001, message=b"server shutdown")
