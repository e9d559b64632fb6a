"""Workers and the journal: throughput and p99 with 1, 2 and 4 workers on PostgreSQL, and the journal's own cost.

Run by hand from the repository root (never in the tests):

    .venv/bin/python bench/bench_workers.py --database-url postgresql://hitl:hitl@127.0.0.1:5432/hb_workers

Two parts:

* ``journal``: what the delivery journal adds per message, on each backend: ``lock(key)`` + ``intent(key)`` +
  ``done(key, id)`` (what the core does around each send), sequentially, on the embedded backend (SQLite in a
  temporary folder) and on PostgreSQL (a fresh database), p50/p99 in ms.
* ``workers``: ``hitl-bridge serve --workers N --adapter zendesk`` (the real supervisor) on a fresh PostgreSQL
  database; the fake Botpress (``tests/e2e/botpress_server.py --delay-ms 20``) and the fake Zendesk behind a
  proxy adding 20 ms to every call, so the upstream is the bottleneck. ``message_created`` (each a new message, so
  a comment and an ack each) and agent-reply webhooks (a comment made in the fake Zendesk, its signed delivery
  relayed by the fake Botpress as ``webhook_received``) at a fixed concurrency; req/s, p50 and p99.

Every database it creates is dropped at the end; every process it starts is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from aiohttp import web
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coordination import open_backend
from tests.e2e.cluster import Runtime, hitl_text_body, new_bp_message_id, start_botpress, worker_env
from tests.e2e.conftest import (
    HOST,
    ZENDESK_CREDENTIALS,
    Process,
    child_env,
    hitl_bridge_script,
    wait_ready,
)
from tests.live import free_port
from tests.pg import fresh_database

UPSTREAM_DELAY_MS = 20.0
BENCH_PREFIX = "hb_bench_"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- the journal ----------------------------------------------------------------------------------------------


async def journal_latency(data_dir: Path, database_url: SecretStr | None, count: int) -> list[float]:
    """ms per message of lock + intent + done, ``count`` times, on one backend."""
    async with open_backend(data_dir, database_url) as backend:
        coordinator, samples = backend.coordinator, []
        for index in range(count + 50):
            key = f"msg:bench:{uuid.uuid4().hex}"
            started = time.perf_counter()
            async with coordinator.lock(key):
                await coordinator.intent(key)
                await coordinator.done(key, str(index))
            if index >= 50:  # the first ones warm the connections and statements
                samples.append((time.perf_counter() - started) * 1000)
        return samples


async def bench_journal(server_url: str, count: int) -> None:
    print("\n| backend | messages | p50 ms | p99 ms | mean ms |\n|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        rows = [("embedded (SQLite, WAL)", await journal_latency(Path(folder), None, count))]
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database(server_url, prefix=BENCH_PREFIX) as url:
            rows.append(("PostgreSQL", await journal_latency(Path(folder), url, count)))
    for name, samples in rows:
        p50, p99, mean = percentile(samples, 0.5), percentile(samples, 0.99), statistics.fmean(samples)
        print(f"| {name} | {len(samples)} | {p50:.2f} | {p99:.2f} | {mean:.2f} |")


# --- the workers ----------------------------------------------------------------------------------------------


@asynccontextmanager
async def delaying_proxy(target: str, delay_seconds: float) -> AsyncIterator[str]:
    """An HTTP proxy to ``target`` adding ``delay_seconds`` to every request: a slow upstream."""
    async with httpx.AsyncClient(timeout=60, trust_env=False) as http:

        async def forward(request: web.Request) -> web.Response:
            await asyncio.sleep(delay_seconds)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            answer = await http.request(
                request.method, target + request.path_qs, headers=headers, content=await request.read()
            )
            kept = {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}
            return web.Response(status=answer.status_code, body=answer.content, headers=kept)

        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, HOST, port).start()
        try:
            yield f"http://{HOST}:{port}"
        finally:
            await runner.cleanup()


async def timed(count: int, concurrency: int, one: Callable[[int], Awaitable[bool]]) -> tuple[float, list[float], int]:
    """Run ``one(i)`` ``count`` times at ``concurrency``: (seconds, latencies in ms, errors)."""
    gate, samples, errors = asyncio.Semaphore(concurrency), [], 0

    async def run(index: int) -> None:
        nonlocal errors
        async with gate:
            started = time.perf_counter()
            ok = await one(index)
            samples.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1

    began = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(count)))
    return time.perf_counter() - began, samples, errors


def row(what: str, workers: int, result: tuple[float, list[float], int]) -> str:
    seconds, samples, errors = result
    return (
        f"| {what} | {workers} | {len(samples)} | {errors} | {len(samples) / seconds:.0f} | "
        f"{percentile(samples, 0.5):.1f} | {percentile(samples, 0.99):.1f} |"
    )


async def bench_workers_once(server_url: str, workers: int, args: argparse.Namespace, tmp: Path) -> list[str]:
    media = tmp / "media"
    media.mkdir(exist_ok=True)
    processes: list[Process] = []
    try:
        zendesk_port = free_port()
        argv = [
            sys.executable,
            "-m",
            "tests.e2e.zendesk_server",
            "--port",
            str(zendesk_port),
            "--media-dir",
            str(media),
            *(["--unchecked"] if args.unchecked_fakes else []),
        ]
        processes.append(Process("fake Zendesk", argv, tmp / "zendesk.log", child_env()))
        wait_ready(processes[-1], f"http://{HOST}:{zendesk_port}/_test/violations")
        botpress_url, botpress = start_botpress(tmp, UPSTREAM_DELAY_MS, checked=not args.unchecked_fakes)
        processes.append(botpress)
        async with (
            fresh_database(server_url, prefix=BENCH_PREFIX) as database_url,
            delaying_proxy(f"http://{HOST}:{zendesk_port}", UPSTREAM_DELAY_MS / 1000) as zendesk_url,
        ):
            port = free_port()
            env = worker_env(
                botpress_url, "zendesk", database_url.get_secret_value(), HITL_BRIDGE_LOG_LEVEL=args.log_level
            )
            argv = [str(hitl_bridge_script()), "serve", "--workers", str(workers), "--host", HOST, "--port", str(port)]
            argv += ["--data-dir", str(tmp / "data")]
            processes.append(Process(f"serve --workers {workers}", argv, tmp / f"serve-{workers}.log", env))
            bridge = f"http://{HOST}:{port}"
            wait_ready(processes[-1], f"{bridge}/health", timeout=60)
            return await drive(bridge, botpress_url, zendesk_url, f"http://{HOST}:{zendesk_port}", workers, args)
    finally:
        for process in reversed(processes):
            process.stop()


async def drive(
    bridge: str, botpress_url: str, zendesk_url: str, zendesk_direct: str, workers: int, args: argparse.Namespace
) -> list[str]:
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    async with httpx.AsyncClient(timeout=120, trust_env=False, limits=limits) as http:
        configuration = {**ZENDESK_CREDENTIALS, "adapter": "zendesk", "baseUrl": zendesk_url}
        runtime = Runtime(http, botpress_url, configuration)
        await runtime.relay_to(bridge)
        await runtime.register(bridge)
        sessions = [await open_session(runtime, bridge, n) for n in range(args.tickets)]

        async def message(index: int) -> bool:
            bp_user_id, bp_conversation_id, ticket_id = sessions[index % len(sessions)]
            body = hitl_text_body(bp_conversation_id, ticket_id, bp_user_id, new_bp_message_id(), f"bench {index}")
            return (await runtime.seed_and_message(bridge, body)).status_code == 200

        async def webhook(index: int) -> bool:
            ticket_id = sessions[index % len(sessions)][2]
            body = {"ticket_id": int(ticket_id), "html": f"<p>reply {index}</p>"}
            fired = (await http.post(f"{zendesk_direct}/_test/agent_comment", json=body)).json()["deliveries"]
            return all(d["answer"]["status"] == 200 for d in fired)

        await timed(20, 4, message)  # warm-up
        rows = [row("message_created", workers, await timed(args.messages, args.concurrency, message))]
        rows.append(row("webhook (agent reply)", workers, await timed(args.messages, args.concurrency, webhook)))
        return rows


async def open_session(runtime: Runtime, bridge: str, number: int) -> tuple[str, str, str]:
    """createUser + startHitl: the Botpress user, the hitl conversation and the ticket."""
    bp_user_id = await runtime.create_user(bridge, f"User {number}", f"user{number}@example.com")
    start = {"userId": bp_user_id, "title": f"Bench {number}", "messageHistory": []}
    answer = await runtime.action(bridge, "startHitl", start)
    bp_conversation_id: str = answer.json()["output"]["conversationId"]
    ticket_id: str = (await runtime.state())["conversations"][bp_conversation_id]["tags"]["id"]
    return bp_user_id, bp_conversation_id, ticket_id


async def bench_workers(server_url: str, args: argparse.Namespace) -> None:
    delay = f"{UPSTREAM_DELAY_MS:g} ms added to every Botpress and Zendesk call"
    print(f"\nconcurrency {args.concurrency}, {args.tickets} sessions, {delay}")
    print(
        "\n| operation | workers | requests | errors | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            for line in await bench_workers_once(server_url, workers, args, Path(folder)):
                print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server URL whose role may CREATE DATABASE")
    parser.add_argument("--workers", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 4])
    parser.add_argument("--messages", type=int, default=400, help="requests per series")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tickets", type=int, default=32, help="sessions the requests are spread over")
    parser.add_argument("--journal-messages", type=int, default=2000)
    parser.add_argument("--log-level", default="WARNING", help="the workers' HITL_BRIDGE_LOG_LEVEL")
    parser.add_argument("--only", choices=["journal", "workers"], default=None)
    parser.add_argument(
        "--unchecked-fakes",
        action="store_true",
        help="the fakes skip their OpenAPI checks, whose CPU would otherwise be what the run measures",
    )
    args = parser.parse_args()
    if args.only in (None, "journal"):
        asyncio.run(bench_journal(args.database_url, args.journal_messages))
    if args.only in (None, "workers"):
        asyncio.run(bench_workers(args.database_url, args))


if __name__ == "__main__":
    main()
