"""Hand-run benchmark (not a test): what the delivery journal adds to one message, on each backend.

For each backend it times ``intent(key)`` then ``done(key, external_id)`` on a fresh key, one pair at a time (what a
``message_created`` adds on its way: write the intent, send, record the outcome), and, for comparison, the same pair
inside ``lock(key)`` (what a delivery that also serialises redeliveries pays). It prints a markdown table of p50, p90,
p99 and the mean in milliseconds. The embedded backend runs in a temporary data folder; PostgreSQL in a fresh
database created on the server ``--database-url`` names (or ``HITL_BRIDGE_TEST_DATABASE_URL``) and dropped after.
Run from the repository root::

    .venv/bin/python bench/bench_journal.py                         # embedded only
    .venv/bin/python bench/bench_journal.py --database-url postgresql://hb_ci:hb_ci@127.0.0.1:5432/hb_ci
    .venv/bin/python bench/bench_journal.py --pairs 5000 --warmup 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coordination import Coordinator, open_backend
from tests.pg import fresh_database

BENCH_PREFIX = "hb_bench_"


async def timed(pairs: int, step: Callable[[str], Awaitable[None]]) -> list[float]:
    samples: list[float] = []
    for n in range(pairs):
        key = f"msg:bench:{uuid.uuid4().hex}:{n}"
        started = time.perf_counter()
        await step(key)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def journal_pair(coordinator: Coordinator) -> Callable[[str], Awaitable[None]]:
    async def step(key: str) -> None:
        await coordinator.intent(key)
        await coordinator.done(key, "external-1")

    return step


def locked_pair(coordinator: Coordinator) -> Callable[[str], Awaitable[None]]:
    pair = journal_pair(coordinator)

    async def step(key: str) -> None:
        async with coordinator.lock(key):
            await pair(key)

    return step


def row(backend: str, what: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    quantiles = statistics.quantiles(ordered, n=100)
    p50, p90, p99 = quantiles[49], quantiles[89], quantiles[98]
    mean = statistics.fmean(samples)
    return f"| {backend} | {what} | {len(samples)} | {p50:.3f} | {p90:.3f} | {p99:.3f} | {mean:.3f} |"


async def measure(backend: str, coordinator: Coordinator, pairs: int, warmup: int) -> list[str]:
    await timed(warmup, journal_pair(coordinator))
    rows = [row(backend, "intent + done", await timed(pairs, journal_pair(coordinator)))]
    await timed(warmup, locked_pair(coordinator))
    rows.append(row(backend, "lock + intent + done", await timed(pairs, locked_pair(coordinator))))
    return rows


async def main(pairs: int, warmup: int, database_url: str | None) -> None:
    print("| backend | what | pairs | p50 ms | p90 ms | p99 ms | mean ms |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        async with open_backend(Path(folder), None) as backend:
            print("\n".join(await measure("embedded (SQLite)", backend.coordinator, pairs, warmup)), flush=True)
    if database_url:
        async with fresh_database(database_url, prefix=BENCH_PREFIX) as url, open_backend(Path("."), url) as backend:
            print("\n".join(await measure("PostgreSQL", backend.coordinator, pairs, warmup)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("HITL_BRIDGE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(main(args.pairs, args.warmup, args.database_url))
