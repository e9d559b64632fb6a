"""The markdown ``bench_speed.py`` prints: the run's settings, one row per series, and the calls per op by route."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from pathlib import Path

from speed_procs import Stack
from speed_series import Series

SERVER, BOTPRESS, ZENDESK, CLIENT = "hitl-bridge serve", "fake botpress", "fake zendesk", "load generator"


def header(args: argparse.Namespace, stack: Stack) -> str:
    """Machine, commit and settings of the run."""
    backend = "PostgreSQL (a fresh database)" if args.database_url else "embedded (SQLite)"
    fakes = "checked against OpenAPI" if args.checked_fakes else "unchecked"
    return (
        f"\n{_machine()}; Python {platform.python_version()}; hitl-bridge at {_commit()}\n"
        f"{args.latency_ms:g} ms per upstream call; {args.workers} worker(s) "
        f"({stack.server.processes()} server processes); {backend}; log level {args.log_level}; fakes {fakes}; "
        f"{args.tickets} tickets with {args.ticket_replies} agent comments each before the replies; "
        f"load average {_load()} (1, 5, 15 min) at the end\n"
    )


def table(results: list[Series]) -> str:
    lines = [
        "| operation | concurrency | ops | errors | ops/s | p50 ms | p95 ms | p99 ms | upstream calls/op (BP + ZD) "
        "| server CPU ms/op | fakes CPU ms/op (BP / ZD) | load generator CPU ms/op | server RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    lines += [_row(series) for series in results]
    return "\n".join(lines)


def _row(s: Series) -> str:
    bp, zd = s.calls_per_op("botpress"), s.calls_per_op("zendesk")
    rate = s.ops / s.seconds if s.seconds else 0.0
    fakes = f"{s.cpu_ms_per_op(BOTPRESS):.1f} / {s.cpu_ms_per_op(ZENDESK):.1f}"
    return (
        f"| {s.name} | {s.concurrency} | {s.ops} | {s.errors} | {rate:,.1f} | {s.percentile(0.5):,.1f} | "
        f"{s.percentile(0.95):,.1f} | {s.percentile(0.99):,.1f} | {bp + zd:.1f} ({bp:.1f} + {zd:.1f}) | "
        f"{s.cpu_ms_per_op(SERVER):.1f} | {fakes} | {s.cpu_ms_per_op(CLIENT):.1f} | {s.rss_mib:.0f} |"
    )


def routes(results: list[Series]) -> str:
    """Each series' upstream calls per op, by route (the first series of each name and concurrency)."""
    lines = ["", "Upstream calls per op, by route:", ""]
    for s in results:
        by_route = [(f"BP {name}", n) for name, n in s.calls.get("botpress", {}).items()]
        by_route += [(f"ZD {name}", n) for name, n in s.calls.get("zendesk", {}).items()]
        text = ", ".join(f"{name} x{n / s.ops:.2f}" for name, n in sorted(by_route, key=lambda r: -r[1]) if n)
        lines.append(f"* {s.name} at {s.concurrency}: {text or 'none'}")
    return "\n".join(lines)


def _machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), "?"
    )
    return f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}"


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
