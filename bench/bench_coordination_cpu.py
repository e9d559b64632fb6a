"""Hand-run benchmark (not a test): the process CPU the embedded coordinator spends per message.

A message_created asks the coordinator for a journal intent, its outcome (done) and a memo read; an agent reply reads
and writes the memo a few times. This runs ``--ops`` such operations, ``--concurrency`` at a time, on a fresh
embedded coordinator in a temporary data folder, and prints the process CPU (every thread, aiosqlite's included)
per operation in milliseconds, with the wall time. Run from the repository root::

    .venv/bin/python bench/bench_coordination_cpu.py
    .venv/bin/python bench/bench_coordination_cpu.py --ops 5000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coordination import Coordinator, open_backend

Step = Callable[[Coordinator, int], Awaitable[None]]


async def message(coordinator: Coordinator, n: int) -> None:
    """What a message_created asks: the memo (the conversation's ticket), the intent, the outcome."""
    await coordinator.memo_get(f"ticket:{n % 50}")
    key = f"msg:bench:{uuid.uuid4().hex}"
    await coordinator.intent(key)
    await coordinator.done(key, "external-1")


async def reply(coordinator: Coordinator, n: int) -> None:
    """What an agent reply asks: a high-water mark and two lookups read, the mark written."""
    await coordinator.memo_get(f"mark:{n % 50}")
    await coordinator.memo_get(f"conversation:{n % 50}")
    await coordinator.memo_get(f"user:{n % 50}")
    await coordinator.memo_set(f"mark:{n % 50}", str(n), 3600)


async def run(coordinator: Coordinator, step: Step, ops: int, concurrency: int) -> tuple[float, float]:
    queue = iter(range(ops))

    async def worker() -> None:
        for n in queue:
            await step(coordinator, n)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) * 1000 / ops, (time.perf_counter() - wall) * 1000 / ops


async def main(ops: int, concurrency: int) -> None:
    print("| operation | ops | concurrency | CPU ms/op | wall ms/op |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        async with open_backend(Path(folder), None) as backend:
            for name, step in (("message (memo_get, intent, done)", message), ("reply (3 memo_get, memo_set)", reply)):
                for _ in range(2):  # prime the memo keys and the caches once, then measure
                    await run(backend.coordinator, step, min(ops, 500), concurrency)
                cpu, wall = await run(backend.coordinator, step, ops, concurrency)
                print(f"| {name} | {ops} | {concurrency} | {cpu:.3f} | {wall:.3f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.ops, args.concurrency))
