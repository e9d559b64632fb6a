"""Hand-run benchmark of the real server (not a test): throughput, latency and memory of Botpress operations.

It starts ``hitl-bridge serve`` from the same virtualenv in a subprocess on a free 127.0.0.1 port, in sandbox mode
(no ``BP_TOKEN``: every Runtime API call the integration makes goes over loopback HTTP to the emulated Runtime API in
the same process) with the default ``inbox`` adapter and a temporary data folder. Then, from an ``httpx.AsyncClient``
in this process, it sends a bounded number of operations the way the Botpress runtime does and prints a markdown
table. The server is killed at the end, whatever happens. Run from the repository root::

    /work/venv/bin/python bench/bench_server.py                     # about two minutes on 2 cores
    /work/venv/bin/python bench/bench_server.py --messages 500      # quicker
    /work/venv/bin/python bench/bench_server.py --wrk               # also the ping floor measured by wrk, if installed

What one ``message_created`` costs on the server: parse and validate the body, build the per-request adapter,
``InboxAdapter.send_message`` (one SQLite transaction), then the ack: ``PUT /v1/chat/messages/{id}`` to the emulated
Runtime API over loopback, which the same process serves. Each message has its own id, seeded beforehand through the
emulated Runtime API (as the integration, so the sandbox's runtime does not relay it a second time).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pyspy import recording

ALIAS = "hitl-bridge"
"""The integration alias the sandbox installs (integration/sandbox/assembly.py DEFAULT_ALIAS)."""
SERVER_START_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0
STAMP = "2026-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Ids:
    """Who is who: the sandbox's bot and installation (read back once it has registered)."""

    bot_id: str
    bot_user_id: str
    integration_id: str
    webhook_id: str


@dataclass
class Result:
    """One measured series."""

    name: str
    concurrency: int
    latencies_ms: list[float]
    wall_seconds: float
    errors: int = 0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        return 1000 * seconds / len(self.latencies_ms) if self.latencies_ms else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Server:
    """The server's process (``process`` is ``None`` when it runs in this one) and where it listens."""

    pid: int
    base_url: str
    data_dir: Path
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    notes: list[str] = field(default_factory=list)

    def rss_kb(self) -> int:
        return _proc_status_kb(self.pid, "VmRSS")

    def hwm_kb(self) -> int:
        return _proc_status_kb(self.pid, "VmHWM")

    def note_rss(self, when: str) -> None:
        self.notes.append(
            f"Server RSS {when}: {self.rss_kb() / 1024:.1f} MiB (peak so far {self.hwm_kb() / 1024:.1f} MiB)"
        )

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command() -> list[str]:
    script = Path(sys.executable).parent / "hitl-bridge"
    return [str(script), "serve"] if script.exists() else [sys.executable, "-m", "integration", "serve"]


def server_env(port: int, data_dir: Path, log_level: str) -> dict[str, str]:
    dropped = ("BP_TOKEN", "BP_API_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HITL_BRIDGE_") and k not in dropped}
    env.update(
        HITL_BRIDGE_HOST="127.0.0.1",
        HITL_BRIDGE_PORT=str(port),
        HITL_BRIDGE_DATA_DIR=str(data_dir),
        HITL_BRIDGE_ADAPTER="inbox",
        HITL_BRIDGE_LOG_LEVEL=log_level,
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def running_server(log_level: str, keep_dir: bool) -> Iterator[Server]:
    """Start the server; always kill it (and remove its data folder) on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix="hitl-bench-"))
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            server_command(), env=server_env(port, data_dir, log_level), stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        yield Server(process.pid, f"http://127.0.0.1:{port}", data_dir, log_path, process)
    finally:
        _stop(process)
        if not keep_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def wait_until_registered(client: httpx.AsyncClient, server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode}); see {server.log_path}")
        with contextlib.suppress(httpx.HTTPError):
            status = (await client.get(f"{server.base_url}/sandbox/chat/status")).json()
            if status.get("registration") == "registered":
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the sandbox never registered; see {server.log_path}")


async def read_ids(client: httpx.AsyncClient, server: Server) -> Ids:
    """The sandbox's installation as the inbox recorded it at ``register``, and the sandbox's bot user."""
    db = server.data_dir / "inbox" / "inbox.sqlite3"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        bot_id, integration_id, webhook_id = connection.execute(
            "SELECT bot_id, integration_id, webhook_id FROM installations"
        ).fetchone()
    users_url = f"{server.base_url}/sandbox/api/v1/chat/users"
    response = await client.get(users_url, headers=_api_headers(bot_id, None))
    response.raise_for_status()
    bot_user = next(user for user in response.json()["users"] if user.get("name") == "Sandbox bot")
    return Ids(bot_id, bot_user["id"], integration_id, webhook_id)


# Requests as the runtime sends them


def operation_headers(ids: Ids, operation: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-bp-operation": operation,
        "x-bot-id": ids.bot_id,
        "x-bot-user-id": ids.bot_user_id,
        "x-integration-id": ids.integration_id,
        "x-integration-alias": ALIAS,
        "x-webhook-id": ids.webhook_id,
        "x-bp-configuration": base64.b64encode(b"{}").decode(),
        "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
    }


def _api_headers(bot_id: str, integration_id: str | None) -> dict[str, str]:
    headers = {"authorization": "Bearer sandbox", "x-bot-id": bot_id, "content-type": "application/json"}
    if integration_id is not None:
        headers["x-integration-id"] = integration_id
        headers["x-integration-alias"] = ALIAS
    return headers


@dataclass
class Session:
    """An end user with an open hitl session."""

    bp_user_id: str
    bp_conversation_id: str
    external_session_id: str


class Runtime:
    """Sends operations to the server and seeds the emulated Runtime API, as the benchmark needs."""

    def __init__(self, client: httpx.AsyncClient, server: Server, ids: Ids) -> None:
        self.client, self.server, self.ids = client, server, ids

    async def operation(self, operation: str, body: dict[str, Any]) -> httpx.Response:
        content = json.dumps(body).encode()
        return await self.client.post(
            f"{self.server.base_url}/", content=content, headers=operation_headers(self.ids, operation)
        )

    async def action(self, action: str, action_input: dict[str, Any]) -> dict[str, Any]:
        response = await self.operation("action_triggered", {"type": action, "input": action_input})
        if response.status_code != 200:
            raise RuntimeError(f"{action} -> {response.status_code} {response.text[:300]}")
        output: dict[str, Any] = response.json()["output"]
        return output

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.request(
            method,
            f"{self.server.base_url}/sandbox/api/v1/chat{path}",
            json=body,
            headers=_api_headers(self.ids.bot_id, self.ids.integration_id),
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} -> {response.status_code} {response.text[:300]}")
        answer: dict[str, Any] = response.json()
        return answer

    async def open_session(self, email: str, title: str) -> Session:
        bp_user_id = (await self.action("createUser", {"name": "Bench User", "email": email}))["userId"]
        history = [{"source": {"type": "user", "userId": bp_user_id}, "type": "text", "payload": {"text": "help"}}]
        started = await self.action("startHitl", {"userId": bp_user_id, "title": title, "messageHistory": history})
        conversation = (await self.api("GET", f"/conversations/{started['conversationId']}"))["conversation"]
        return Session(bp_user_id, conversation["id"], conversation["tags"]["id"])

    async def seed_message(self, session: Session, text: str) -> str:
        body = {
            "conversationId": session.bp_conversation_id,
            "userId": session.bp_user_id,
            "type": "text",
            "payload": {"text": text},
            "tags": {},
        }
        message_id: str = (await self.api("POST", "/messages", body))["message"]["id"]
        return message_id

    def message_created_body(self, session: Session, bp_message_id: str, text: str) -> dict[str, Any]:
        """What the runtime sends when the HITL plugin relays a user's text into the hitl conversation."""
        payload = {"text": text, "type": "text", "userId": session.bp_user_id}
        return {
            "type": "text",
            "payload": payload,
            "conversation": {
                "id": session.bp_conversation_id,
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "channel": "hitl",
                "integration": ALIAS,
                "tags": {"id": session.external_session_id},
            },
            "message": {
                "id": bp_message_id,
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "type": "text",
                "payload": payload,
                "direction": "outgoing",
                "userId": self.ids.bot_user_id,
                "conversationId": session.bp_conversation_id,
                "tags": {},
            },
            "user": {"id": self.ids.bot_user_id, "createdAt": STAMP, "updatedAt": STAMP, "tags": {}},
        }


# Measuring


async def measure(name: str, concurrency: int, jobs: list[Callable[[], Awaitable[bool]]], server: Server) -> Result:
    """Run ``jobs`` with at most ``concurrency`` in flight; each job says whether it succeeded."""
    queue: asyncio.Queue[Callable[[], Awaitable[bool]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    result = Result(name, concurrency, [], 0.0, rss_before_kb=server.rss_kb())

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            started = time.perf_counter()
            ok = await job()
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.errors += 0 if ok else 1

    started, server_cpu, client_cpu = time.perf_counter(), server.cpu_seconds(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall_seconds = time.perf_counter() - started
    result.server_cpu_seconds = server.cpu_seconds() - server_cpu
    result.client_cpu_seconds = time.process_time() - client_cpu
    result.rss_after_kb = server.rss_kb()
    return result


async def settle(server: Server, quiet_seconds: float = 0.5, limit_seconds: float = 15.0) -> None:
    """Wait until the server has used no CPU for ``quiet_seconds`` (background work of the sandbox finished)."""
    deadline = time.monotonic() + limit_seconds
    last = server.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_seconds)
        now = server.cpu_seconds()
        if now - last < 0.02:
            return
        last = now


async def gather_bounded(coros: list[Awaitable[Any]], limit: int = 16) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(coro) for coro in coros))


def ok_status(response: httpx.Response) -> bool:
    return response.status_code == 200


async def bench_ping(runtime: Runtime, count: int, concurrency: int) -> Result:
    async def ping() -> bool:
        return ok_status(await runtime.operation("ping", {}))

    return await measure("ping", concurrency, [ping] * count, runtime.server)


async def bench_messages(
    runtime: Runtime, session: Session, count: int, concurrency: int, tag: str, profile: Path | None = None
) -> Result:
    texts = [f"bench {tag} message {n}: where is my order #{n}?" for n in range(count)]
    message_ids = await gather_bounded([runtime.seed_message(session, text) for text in texts])
    await settle(runtime.server)

    def job(message_id: str, text: str) -> Callable[[], Awaitable[bool]]:
        async def send() -> bool:
            body = runtime.message_created_body(session, message_id, text)
            return ok_status(await runtime.operation("message_created", body))

        return send

    jobs = [job(*pair) for pair in zip(message_ids, texts, strict=True)]
    with recording(runtime.server.pid, profile):
        result = await measure("message_created (text)", concurrency, jobs, runtime.server)
    await check_acked(runtime, message_ids, result)
    return result


async def check_acked(runtime: Runtime, message_ids: list[str], result: Result) -> None:
    """Every message must carry the helpdesk's id now: the ack reached the emulated Runtime API."""
    sample = message_ids[:: max(1, len(message_ids) // 50)]
    messages = await gather_bounded([runtime.api("GET", f"/messages/{mid}") for mid in sample])
    missing = sum(1 for answer in messages if not answer["message"]["tags"].get("id"))
    if missing:
        result.errors += missing
        print(f"  !! {missing}/{len(sample)} sampled messages were not acked", file=sys.stderr)


async def bench_stop_start(runtime: Runtime, cycles: int, when: str) -> tuple[Result, Result]:
    """Alternate startHitl (a new session each time: distinct title) and stopHitl on its conversation."""
    email = f"cycler-{secrets.token_hex(4)}@example.com"
    bp_user_id = (await runtime.action("createUser", {"name": "Cycler", "email": email}))["userId"]
    history = [{"source": {"type": "user", "userId": bp_user_id}, "type": "text", "payload": {"text": "hi"}}]
    start = Result(f"startHitl ({when})", 1, [], 0.0, rss_before_kb=runtime.server.rss_kb())
    stop = Result(f"stopHitl ({when})", 1, [], 0.0, rss_before_kb=runtime.server.rss_kb())
    for n in range(cycles):
        start_input = {"userId": bp_user_id, "title": f"cycle {n}", "messageHistory": history}
        started = await timed(runtime, start, {"type": "startHitl", "input": start_input})
        if started.status_code == 200:
            stop_input = {"conversationId": started.json()["output"]["conversationId"]}
            await timed(runtime, stop, {"type": "stopHitl", "input": stop_input})
    start.rss_after_kb = stop.rss_after_kb = runtime.server.rss_kb()
    return start, stop


async def timed(runtime: Runtime, result: Result, body: dict[str, Any]) -> httpx.Response:
    """One ``action_triggered``, added to ``result`` (latency, server and client CPU, errors)."""
    server_cpu, client_cpu = runtime.server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    response = await runtime.operation("action_triggered", body)
    elapsed = time.perf_counter() - started
    result.latencies_ms.append(elapsed * 1000)
    result.wall_seconds += elapsed
    result.server_cpu_seconds += runtime.server.cpu_seconds() - server_cpu
    result.client_cpu_seconds += time.process_time() - client_cpu
    result.errors += 0 if ok_status(response) else 1
    return response


# wrk (optional)


def bench_wrk(server: Server, ids: Ids, seconds: int, connections: int) -> str | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    headers = operation_headers(ids, "ping")
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(_wrk_script(server.data_dir))]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    completed = subprocess.run([*args, f"{server.base_url}/"], capture_output=True, text=True, timeout=seconds + 30)
    return completed.stdout


def _wrk_script(folder: Path) -> Path:
    script = folder / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.body = "{}"\n')
    return script


# Reporting


def table(results: list[Result]) -> str:
    lines = [
        "| operation | concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| server CPU ms/req | client CPU ms/req | server RSS before → after (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.concurrency} | {len(r.latencies_ms)} | {r.errors} | {r.throughput:,.0f} | "
            f"{r.percentile(0.50):.2f} | {r.percentile(0.95):.2f} | {r.percentile(0.99):.2f} | "
            f"{max(r.latencies_ms, default=0):.2f} | {r.cpu_ms(r.server_cpu_seconds):.2f} | "
            f"{r.cpu_ms(r.client_cpu_seconds):.2f} | {r.rss_before_kb / 1024:.1f} → {r.rss_after_kb / 1024:.1f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {system}"


# Main


async def run(args: argparse.Namespace, server: Server) -> list[Result]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, limits=limits, trust_env=False) as client:
        await wait_until_registered(client, server)
        ids = await read_ids(client, server)
        runtime = Runtime(client, server, ids)
        session = await runtime.open_session("bench@example.com", "Benchmark session")
        await settle(server)
        server.note_rss("after start-up and one session")
        await bench_messages(runtime, session, min(200, args.messages), 8, "warm-up")  # not reported
        await settle(server)
        server.note_rss("after a 200-message warm-up")
        results = [await bench_ping(runtime, args.pings, c) for c in args.concurrency]
        results.extend(await bench_stop_start(runtime, args.cycles, "fresh emulator"))
        await settle(server)
        server.note_rss("after ping and the first start/stop cycles")
        for c in args.concurrency:
            profile = args.profile_dir / f"message_created-c{c}.txt" if args.profile_dir else None
            results.append(await bench_messages(runtime, session, args.messages, c, f"c{c}", profile))
            server.note_rss(f"after the message_created run at concurrency {c}")
        await settle(server)
        # Again, now that the emulated Botpress holds every message above (its lookups scan whole collections).
        results.extend(await bench_stop_start(runtime, args.cycles, "after the message runs"))
        await settle(server)
        server.note_rss("at the end")
        if args.wrk:
            server.notes.append(bench_wrk(server, ids, args.wrk_seconds, 32) or "wrk is not installed")
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2000, help="message_created requests per concurrency level")
    parser.add_argument("--pings", type=int, default=2000, help="ping requests per concurrency level")
    parser.add_argument("--cycles", type=int, default=100, help="startHitl + stopHitl cycles")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--log-level", default="INFO", help="the server's HITL_BRIDGE_LOG_LEVEL (INFO is the default)")
    parser.add_argument("--wrk", action="store_true", help="also measure ping with wrk (if installed)")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the server's data folder and log")
    parser.add_argument("--profile-dir", type=Path, default=None, help="record py-spy stacks of each message run here")
    args = parser.parse_args(argv)
    for name in ("messages", "pings", "cycles"):
        if not 1 <= getattr(args, name) <= 20_000:
            parser.error(f"--{name}: between 1 and 20000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine: {machine()}", file=sys.stderr)
    with running_server(args.log_level, args.keep) as server:
        try:
            results = asyncio.run(asyncio.wait_for(run(args, server), timeout=900))
        except BaseException:
            if server.log_path is not None:
                print(server.log_path.read_text()[-3000:], file=sys.stderr)
            raise
        notes = server.notes
        if args.keep:
            notes.append(f"data and log kept in {server.data_dir}")
    print(f"Machine: {machine()}; server log level {args.log_level}\n")
    print(table(results))
    print()
    for note in notes:
        print(note)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
