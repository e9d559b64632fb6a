"""Running the real app on a loopback socket, for tests that need real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiohttp import web

from integration.app import create_app
from integration.sandbox import SANDBOX
from integration.settings import Settings

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def live_app(settings: Settings) -> AsyncIterator[tuple[web.Application, httpx.AsyncClient]]:
    """``create_app(settings)`` listening on ``settings.port``; with the sandbox on, once it has registered."""
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, HOST, settings.port).start()
    try:
        if settings.sandbox_enabled:
            await _registered(app)
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{settings.port}", trust_env=False, timeout=30) as http:
            yield app, http
    finally:
        await runner.cleanup()


async def _registered(app: web.Application) -> None:
    sandbox = app[SANDBOX].value
    for _ in range(200):
        if sandbox.runtime.activity.registration != "pending":
            break
        await asyncio.sleep(0.05)
    assert sandbox.runtime.activity.registration == "registered"
