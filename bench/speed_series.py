"""One timed series of ``bench_speed.py``: jobs at a concurrency, and what it cost upstream, in CPU and in memory.

A job prepares what it needs outside the timed part (an agent comment in the fake Zendesk) and times only its
request(s) to the bridge. Before and after a series the benchmark waits until the server's CPU is still (the
work an answer left running in the background belongs to the operation), then reads the fakes' call counters and
the CPU of every process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from speed_ops import Bridge
from speed_procs import Stack

Job = Callable[[], Awaitable[tuple[float, bool]]]
"""Run one operation: (milliseconds of its timed part, whether it succeeded)."""
SETTLE_POLL_SECONDS = 0.2
SETTLE_LIMIT_SECONDS = 10.0


@dataclass
class Series:
    """The result of one series."""

    name: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    calls: dict[str, Counter[str]] = field(default_factory=dict)
    """Upstream (``botpress``, ``zendesk``) -> call name -> requests during the series."""
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """``server``, ``fake botpress``, ``fake zendesk``, ``load generator`` -> CPU seconds during the series."""
    rss_mib: float = 0.0

    @property
    def ops(self) -> int:
        return len(self.latencies_ms)

    def per_op(self, total: float) -> float:
        return total / self.ops if self.ops else 0.0

    def calls_per_op(self, upstream: str) -> float:
        return self.per_op(sum(self.calls.get(upstream, Counter()).values()))

    def cpu_ms_per_op(self, who: str) -> float:
        return self.per_op(self.cpu_seconds.get(who, 0.0) * 1000)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def run_series(name: str, concurrency: int, jobs: list[Job], bridge: Bridge, stack: Stack) -> Series:
    """Run ``jobs`` with ``concurrency`` of them in flight, measured."""
    series = Series(name, concurrency)
    await settle(stack)
    calls_before, cpu_before = await bridge.calls(), cpu(stack)
    started = time.perf_counter()
    await _drain(iter(jobs), concurrency, series)
    series.seconds = time.perf_counter() - started
    await settle(stack)
    calls_after, cpu_after = await bridge.calls(), cpu(stack)
    series.calls = {up: Counter(calls_after[up]) - Counter(calls_before[up]) for up in calls_after}
    series.cpu_seconds = {who: cpu_after[who] - cpu_before[who] for who in cpu_after}
    series.rss_mib = stack.server.rss_mib()
    return series


async def _drain(jobs: Iterator[Job], concurrency: int, series: Series) -> None:
    async def worker() -> None:
        for job in jobs:  # the iterator is shared: each job runs once, in order of the workers' turns
            elapsed_ms, ok = await job()
            series.latencies_ms.append(elapsed_ms)
            series.errors += 0 if ok else 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def cpu(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of each process of the run, and of this one (the load generator)."""
    watched = (stack.server, stack.botpress, stack.zendesk)
    return {process.name: process.cpu_seconds() for process in watched} | {"load generator": time.process_time()}


async def settle(stack: Stack) -> None:
    """Wait until the server's CPU stops moving (at most ``SETTLE_LIMIT_SECONDS``)."""
    deadline, last = time.monotonic() + SETTLE_LIMIT_SECONDS, stack.server.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_POLL_SECONDS)
        now = stack.server.cpu_seconds()
        if now - last <= 0.01:  # one clock tick: idle
            return
        last = now


async def timed(send: Callable[[], Awaitable[bool]]) -> tuple[float, bool]:
    """Time ``send()``; an exception is a failed operation."""
    started = time.perf_counter()
    try:
        ok = await send()
    except Exception:  # a benchmark counts failures; the run reports them and exits 1
        ok = False
    return (time.perf_counter() - started) * 1000, ok
