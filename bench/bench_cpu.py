"""Server CPU per operation with the Zendesk adapter, and where it goes (py-spy): run by hand, never in the tests.

    .venv/bin/python bench/bench_cpu.py                          # 300 of each operation at concurrency 32
    .venv/bin/python bench/bench_cpu.py --profile-dir /tmp/prof  # also py-spy stacks of each series, summarised

It starts the fake Botpress (``tests/e2e/botpress_server.py --delay-ms D --unchecked``), the fake Zendesk
(``tests/e2e/zendesk_server.py --unchecked``) behind a proxy in this process that adds the same delay to every call,
and one ``hitl-bridge serve --adapter zendesk`` (one process, embedded store, a temporary data folder). Then, at a
fixed concurrency: ``startHitl`` (each a new user's handoff, with a history of ``--history`` messages),
``message_created`` (each a new Botpress message: a comment, then its ack) and agent replies (a comment made in the
fake Zendesk, whose signed delivery the fake Botpress relays as ``webhook_received``). For each series: requests,
errors, ops/s, p50/p99, and the server's user+system CPU (``/proc/<pid>/stat``) divided by the operations. The
fakes' contract checks are off: their CPU is not the server's, and the server's is what this measures.

With ``--profile-dir`` each series runs a second time under ``py-spy record`` (sampling slows the server, so the
CPU figures come from the first run); the raw stacks are written there and summarised: the share of the busy
samples spent under each group of frames (the HTTP client, aiohttp's server, logging, pydantic, JSON...).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workers import delaying_proxy, percentile, timed
from pyspy import recording

from tests.e2e.cluster import Runtime, hitl_text_body, new_bp_message_id, start_botpress, worker_env
from tests.e2e.conftest import HOST, ZENDESK_CREDENTIALS, Process, child_env, hitl_bridge_script, wait_ready
from tests.live import free_port

GROUPS = {
    "HTTP client: httpx, httpcore, anyio, h11": ("httpx/", "httpcore/", "anyio/", "h11/", "sniffio/"),
    "HTTP client: aiohttp's client": ("aiohttp/client", "aiohttp/connector", "httpx_aiohttp/"),
    "aiohttp's server": ("aiohttp/",),
    "logging": ("logging/",),
    "pydantic": ("pydantic/", "pydantic_core/"),
    "JSON (json, orjson)": ("json/", "orjson"),
    "aiosqlite, sqlite3": ("aiosqlite/", "sqlite3/"),
    "hitl-bridge's code": ("integration/", "external_adapters/", "coordination/", "bp_modules/", "definition/"),
}
"""Each sample goes to the group of its innermost frame outside the standard library's plumbing (below)."""
PLUMBING = ("asyncio/", "selectors.py", "socket.py", "ssl.py", "contextlib.py", "typing.py", "enum.py", "abc.py")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def owner(stack: str) -> str:
    """The group a sample's CPU is charged to: its innermost frame that is not asyncio or similar plumbing."""
    frames = stack.split(";")
    # Below the loop's own frames (server start-up, run_forever) is the callback that runs: charge that.
    loop = [i for i, frame in enumerate(frames) if "BaseEventLoop._run_once" in frame]
    frames = frames[loop[-1] + 1 :] if loop else frames
    for frame in reversed(frames):
        if any(part in frame for part in PLUMBING):
            continue
        for name, needles in GROUPS.items():
            if any(needle in frame for needle in needles):
                client = name == "aiohttp's server" and any("aiohttp/client" in f for f in frames)
                return "HTTP client: aiohttp's client" if client else name
        return "other (standard library, other packages)"
    return "the event loop itself (asyncio, selectors)"


def summarise(raw: Path, top: int = 12) -> str:
    """Where the samples of ``raw`` go, by :func:`owner`, and the costliest leaf frames."""
    stacks: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    total = sum(stacks.values()) or 1
    owners: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for stack, n in stacks.items():
        owners[owner(stack)] += n
        leaves[stack.rsplit(";", 1)[-1]] += n
    lines = [f"{raw.name}: {total} samples of the thread holding the GIL"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in owners.most_common()]
    lines.append("  top leaf frames:")
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in leaves.most_common(top)]
    return "\n".join(lines)


class Bench:
    """The running fakes and server, and the operations sent to it."""

    def __init__(self, http: httpx.AsyncClient, runtime: Runtime, bridge: str, zendesk: str, pid: int) -> None:
        self.http, self.runtime, self.bridge, self.zendesk, self.pid = http, runtime, bridge, zendesk, pid
        self.sessions: list[tuple[str, str, str]] = []
        self.users: list[str] = []

    async def create_users(self, count: int) -> None:
        async def one(index: int) -> bool:
            number = len(self.users) + index
            self.users.append(await self.runtime.create_user(self.bridge, f"User {number}", f"u{number}@example.com"))
            return True

        await timed(count, 8, one)

    async def start(self, index: int, history: list[dict[str, Any]]) -> bool:
        bp_user_id = self.users.pop()
        start = {"userId": bp_user_id, "title": f"Bench {index}", "messageHistory": history}
        answer = await self.runtime.action(self.bridge, "startHitl", start)
        if answer.status_code != 200:
            return False
        self.sessions.append((bp_user_id, answer.json()["output"]["conversationId"], ""))
        return True

    async def resolve_tickets(self) -> None:
        conversations = (await self.runtime.state())["conversations"]
        self.sessions = [(u, c, conversations[c]["tags"]["id"]) for u, c, _ in self.sessions]

    async def message(self, index: int) -> bool:
        bp_user_id, bp_conversation_id, ticket_id = self.sessions[index % len(self.sessions)]
        body = hitl_text_body(bp_conversation_id, ticket_id, bp_user_id, new_bp_message_id(), f"bench {index}")
        return (await self.runtime.seed_and_message(self.bridge, body)).status_code == 200

    async def reply(self, index: int) -> bool:
        ticket_id = self.sessions[index % len(self.sessions)][2]
        body = {"ticket_id": int(ticket_id), "html": f"<p>reply {index}</p>"}
        fired = (await self.http.post(f"{self.zendesk}/_test/agent_comment", json=body)).json()["deliveries"]
        return all(d["answer"]["status"] == 200 for d in fired)

    async def series(self, name: str, count: int, concurrency: int, one: Callable[[int], Awaitable[bool]]) -> str:
        """Run one series; its row of the table."""
        await asyncio.sleep(0.5)  # let the previous series' background work (outbox, relays) finish
        before = cpu_seconds(self.pid)
        seconds, samples, errors = await timed(count, concurrency, one)
        cpu_ms = 1000 * (cpu_seconds(self.pid) - before) / count
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        rate = f"{count / seconds:.0f}"
        cells = [name, concurrency, count, errors, rate, f"{p50:.1f}", f"{p99:.1f}", f"{cpu_ms:.2f}"]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def history_of(length: int, bp_user_id: str = "user_bench") -> list[dict[str, Any]]:
    """A ``messageHistory`` of ``length`` short texts, alternating end user and bot."""
    sources = [{"type": "user", "userId": bp_user_id}, {"type": "bot"}]
    return [{"source": sources[i % 2], "type": "text", "payload": {"text": f"line {i}"}} for i in range(length)]


async def run(bench: Bench, args: argparse.Namespace) -> list[str]:
    rows, c, n = [], args.concurrency, args.ops
    for rep in range(2 if args.profile_dir else 1):
        profile = args.profile_dir if rep else None
        await bench.create_users(n)
        with recording(bench.pid, profile / "startHitl.txt" if profile else None, gil=True):
            rows.append(await bench.series("startHitl", n, c, lambda i: bench.start(i, history_of(args.history))))
        await bench.resolve_tickets()
        with recording(bench.pid, profile / "message_created.txt" if profile else None, gil=True):
            rows.append(await bench.series("message_created", n, c, bench.message))
        with recording(bench.pid, profile / "agent_reply.txt" if profile else None, gil=True):
            rows.append(await bench.series("agent reply (webhook)", n, c, bench.reply))
        if rep:
            rows = rows[:3] + [f"{r} (under py-spy)" for r in rows[3:]]
    return rows


async def main_async(args: argparse.Namespace, tmp: Path) -> None:
    processes: list[Process] = []
    try:
        zendesk_port = free_port()
        argv = [sys.executable, "-m", "tests.e2e.zendesk_server", "--port", str(zendesk_port)]
        argv += ["--media-dir", str(tmp), "--unchecked"]
        processes.append(Process("fake Zendesk", argv, tmp / "zendesk.log", child_env()))
        zendesk_direct = f"http://{HOST}:{zendesk_port}"
        wait_ready(processes[-1], f"{zendesk_direct}/_test/violations")
        botpress_url, botpress = start_botpress(tmp, args.delay_ms, checked=False)
        processes.append(botpress)
        async with delaying_proxy(zendesk_direct, args.delay_ms / 1000) as zendesk_url:
            port = free_port()
            env = worker_env(botpress_url, "zendesk", None, HITL_BRIDGE_LOG_LEVEL=args.log_level)
            argv = [str(hitl_bridge_script()), "serve", "--host", HOST, "--port", str(port)]
            processes.append(Process("serve", [*argv, "--data-dir", str(tmp / "data")], tmp / "serve.log", env))
            bridge = f"http://{HOST}:{port}"
            wait_ready(processes[-1], f"{bridge}/health", timeout=60)
            limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
            async with httpx.AsyncClient(timeout=120, trust_env=False, limits=limits) as http:
                configuration = {**ZENDESK_CREDENTIALS, "adapter": "zendesk", "baseUrl": zendesk_url}
                runtime = Runtime(http, botpress_url, configuration)
                await runtime.relay_to(bridge)
                await runtime.register(bridge)
                bench = Bench(http, runtime, bridge, zendesk_direct, processes[-1].popen.pid)
                rows = await run(bench, args)
        print(f"\n{args.delay_ms:g} ms per upstream call, log level {args.log_level}, history {args.history} messages")
        print("\n| operation | concurrency | ops | errors | ops/s | p50 ms | p99 ms | server CPU ms/op |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
    finally:
        for process in reversed(processes):
            process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=300, help="operations per series")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay-ms", type=float, default=20.0, help="added to every Botpress and Zendesk call")
    parser.add_argument("--history", type=int, default=50, help="messages in each startHitl's messageHistory")
    parser.add_argument("--log-level", default="INFO", help="the server's HITL_BRIDGE_LOG_LEVEL")
    parser.add_argument("--profile-dir", type=Path, default=None, help="also run each series under py-spy, here")
    parser.add_argument("--summarise", type=Path, nargs="+", default=None, help="only summarise these raw stacks")
    args = parser.parse_args()
    if args.summarise:
        print("\n\n".join(summarise(path) for path in args.summarise))
        return
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main_async(args, Path(folder)))
    if args.profile_dir:
        for name in ("startHitl", "message_created", "agent_reply"):
            print("\n" + summarise(args.profile_dir / f"{name}.txt"))


if __name__ == "__main__":
    main()
