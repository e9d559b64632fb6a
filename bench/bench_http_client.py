"""CPU per Runtime API call through ``BotpressClient``, by outgoing transport: run by hand, never in the tests.

    .venv/bin/python bench/bench_http_client.py            # 3000 calls per series

One process: a loopback aiohttp server answering ``GET /v1/chat/users/{id}`` with a user, and the client calling it
through the server's own outgoing client (:func:`integration.outgoing_http.outgoing_client`) with
``HITL_BRIDGE_HTTP_CLIENT=httpx`` (httpcore) and ``=aiohttp``, at concurrency 1 and 32; and bare aiohttp for the
floor. The figure is the process's CPU per call (``getrusage``), so it includes the stub server's side of each
call (about 0.1 ms); what differs between rows is the client side.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
from aiohttp import web
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integration.botpress import BotpressClient
from integration.outgoing_http import outgoing_client
from integration.settings import Settings

STAMP = "2026-01-01T00:00:00.000Z"
USER = {"user": {"id": "user_1", "createdAt": STAMP, "updatedAt": STAMP, "tags": {}}}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def cpu_ms_per_call(calls: int, concurrency: int, one: Callable[[], Awaitable[object]]) -> float:
    """Run ``one()`` ``calls`` times at ``concurrency`` (after a warm-up); CPU milliseconds per call."""
    gate = asyncio.Semaphore(concurrency)

    async def gated() -> None:
        async with gate:
            await one()

    await asyncio.gather(*(gated() for _ in range(200)))
    before = cpu_seconds()
    await asyncio.gather(*(gated() for _ in range(calls)))
    return 1000 * (cpu_seconds() - before) / calls


async def main(calls: int) -> None:
    async def user(request: web.Request) -> web.Response:
        return web.json_response(USER)

    app = web.Application()
    app.router.add_get("/v1/chat/users/{id}", user)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    print("| client | concurrency | calls | CPU ms per call |\n|---|---:|---:|---:|")
    try:
        for name in ("httpx", "aiohttp"):
            settings = Settings(http_client=name)
            async with outgoing_client(settings, httpx.Timeout(30.0), None) as http:
                client = BotpressClient(
                    http, base_url=base_url, token=SecretStr("t"), bot_id="b", integration_id="i", integration_alias="a"
                )
                for concurrency in (1, 32):
                    ms = await cpu_ms_per_call(calls, concurrency, lambda c=client: c.get_user("user_1"))
                    print(f"| BotpressClient, HITL_BRIDGE_HTTP_CLIENT={name} | {concurrency} | {calls} | {ms:.3f} |")
        async with aiohttp.ClientSession() as session:

            async def bare() -> bytes:
                async with session.get(f"{base_url}/v1/chat/users/user_1") as response:
                    return await response.read()

            for concurrency in (1, 32):
                ms = await cpu_ms_per_call(calls, concurrency, bare)
                print(f"| bare aiohttp.ClientSession (the floor) | {concurrency} | {calls} | {ms:.3f} |")
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    asyncio.run(main(parser.parse_args().calls))
