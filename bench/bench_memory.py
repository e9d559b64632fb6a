"""Hand-run memory benchmark (not a test): where the server's memory goes as ``message_created`` keeps coming.

It runs the real application (``create_app``, sandbox mode, inbox adapter, temporary data folder) in this process on
a free 127.0.0.1 port, drives it over loopback HTTP exactly like ``bench_server.py`` does, and takes ``tracemalloc``
snapshots after a warm-up and after each round of messages. It prints, per round, the traced memory and the growth
since the warm-up grouped by source file, so growth can be told apart: the emulated Botpress keeps every message (it
stands in for Botpress's database), the author/ack cache is bounded (``TtlCache``, 10,000 entries), and everything
else should stay flat. Run from the repository root::

    /work/venv/bin/python bench/bench_memory.py          # 3 rounds of 1000 messages: minutes (tracemalloc is slow)
    /work/venv/bin/python bench/bench_memory.py --rounds 2 --messages 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import Runtime, Server, Session, free_port, gather_bounded, read_ids, wait_until_registered

from integration.app import create_app
from integration.settings import Settings

TOP = 15
REPO = str(Path(__file__).resolve().parents[1]) + "/"
FRAMES = 12


@asynccontextmanager
async def in_process_server() -> AsyncIterator[Server]:
    """The real application on loopback, in this process and event loop; removed with its data on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix="hitl-bench-memory-"))
    port = free_port()
    settings = Settings(
        host="127.0.0.1",
        port=port,
        data_dir=data_dir,
        adapter="inbox",
        bp_token=None,
        sandbox=True,
        log_level="WARNING",
    )
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield Server(os.getpid(), f"http://127.0.0.1:{port}", data_dir)
    finally:
        await runner.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


async def send_messages(runtime: Runtime, session: Session, count: int, tag: str) -> None:
    """Seed ``count`` messages in the emulated Botpress, then deliver each with ``message_created`` (8 at a time)."""
    texts = [f"memory {tag} message {n}: where is my order #{n}?" for n in range(count)]
    message_ids = await gather_bounded([runtime.seed_message(session, text) for text in texts])

    async def deliver(message_id: str, text: str) -> None:
        response = await runtime.operation("message_created", runtime.message_created_body(session, message_id, text))
        if response.status_code != 200:
            raise RuntimeError(f"message_created -> {response.status_code} {response.text[:300]}")

    await gather_bounded([deliver(mid, text) for mid, text in zip(message_ids, texts, strict=True)], limit=8)


def snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])


def short(path: str) -> str:
    if path.startswith(REPO):
        return path[len(REPO) :]
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def owner(traceback: tracemalloc.Traceback) -> str:
    """The innermost frame in this repository (who asked for the memory), else the innermost frame."""
    for frame in reversed(traceback):  # oldest first: reversed, the innermost comes first
        if frame.filename.startswith(REPO):
            return f"{short(frame.filename)}:{frame.lineno}"
    return short(traceback[-1].filename)


def growth_table(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, messages: int) -> str:
    sizes: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    for stat in after.compare_to(before, "traceback"):
        sizes[owner(stat.traceback)] += stat.size_diff
        blocks[owner(stat.traceback)] += stat.count_diff
    lines = ["| allocated by | growth (KiB) | bytes per message | new blocks |", "|---|---:|---:|---:|"]
    for name, size in sizes.most_common(TOP):
        lines.append(f"| {name} | {size / 1024:,.0f} | {size / messages:,.0f} | {blocks[name]:,} |")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> None:
    tracemalloc.start(FRAMES)
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with in_process_server() as server, httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:
        await wait_until_registered(client, server)
        runtime = Runtime(client, server, await read_ids(client, server))
        session = await runtime.open_session("memory@example.com", "Memory benchmark")
        await send_messages(runtime, session, 500, "warm-up")
        baseline, sent = snapshot(), 0
        print(f"traced after warm-up: {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB\n")
        for round_number in range(1, args.rounds + 1):
            started = time.perf_counter()
            await send_messages(runtime, session, args.messages, f"r{round_number}")
            sent += args.messages
            current = snapshot()
            traced = tracemalloc.get_traced_memory()[0] / 2**20
            print(f"### After {sent} messages ({time.perf_counter() - started:.0f} s): traced {traced:.1f} MiB\n")
            print(growth_table(baseline, current, sent), end="\n\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 11), metavar="1..10")
    parser.add_argument("--messages", type=int, default=1000, help="messages per round (at most 10000)")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 10_000:
        parser.error("--messages: between 1 and 10000")
    asyncio.run(asyncio.wait_for(run(args), timeout=900))
    return 0


if __name__ == "__main__":
    sys.exit(main())
