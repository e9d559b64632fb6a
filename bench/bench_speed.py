"""Speed of the real server with the Zendesk adapter (issue 10): agent replies, startHitl, end-user messages.

Run by hand from the repository root (never in CI, never as a test):

    .venv/bin/python bench/bench_speed.py                       # 20 ms per upstream call, one worker, SQLite
    .venv/bin/python bench/bench_speed.py --workers 2 --database-url postgresql://USER:PASSWORD@127.0.0.1:5432/DB

It starts ``hitl-bridge serve --adapter zendesk`` against the fake Botpress (``tests/e2e/botpress_server.py``) and
the fake Zendesk (``tests/e2e/zendesk_server.py``), each adding ``--latency-ms`` to every API call (an asyncio
sleep) and counting every request by route; their OpenAPI checks are off unless ``--checked-fakes``. Then, over one
keep-alive aiohttp client, at concurrency 1 and ``--concurrency``, each operation on distinct handoffs:

* ``createUser`` then ``startHitl`` with a 50-message history (each a new end user and a new ticket); and
  ``startHitl`` against history length (``--history-sizes``) at concurrency 1;
* ``message_created``: a new end-user text, held by the fake Botpress beforehand, spread over ``--tickets`` tickets
  (each of which first gets one, not measured: the first message of a user also looks its author up);
* agent reply: a public agent comment made in the fake Zendesk (outside the timed part), then its signed trigger
  delivery sent as ``webhook_received``, the way Botpress relays it (timed); each ticket first gets
  ``--ticket-replies`` agent comments, so a delivery finds a conversation's worth of them;
* ``stopHitl`` on distinct sessions.

For each series: upstream calls per op (the fakes' counters before and after), p50/p95/p99, ops/s, CPU per op of
the server (``/proc``, all its processes), of each fake and of the load generator, and the server's RSS. It checks
that every reply became a Botpress message and every end-user message a Zendesk comment, and exits 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import speed_ops as ops
import speed_report as report
from speed_procs import Stack, started
from speed_scenario import Scenario

from tests.pg import fresh_database

BENCH_PREFIX = "hb_bench_speed_"
OPERATIONS = ("start", "history", "message", "reply", "stop")
"""The series: createUser + startHitl, startHitl against history length, end-user messages, agent replies, stopHitl."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added by the fakes to every API call")
    parser.add_argument("--workers", type=int, default=1, help="hitl-bridge serve --workers")
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is made and dropped)")
    parser.add_argument("--concurrency", type=int, default=32, help="the concurrent series' requests in flight")
    parser.add_argument("--ops", type=int, default=50, help="operations per series at concurrency 1")
    parser.add_argument("--ops-concurrent", type=int, default=320, help="operations per concurrent series")
    parser.add_argument("--reply-ops", type=int, help="agent replies at concurrency 1 (default: --ops)")
    parser.add_argument("--reply-ops-concurrent", type=int, help="concurrent agent replies (default: --ops-concurrent)")
    parser.add_argument("--history-sizes", type=_sizes, default=[10, 50, 200, 1000])
    parser.add_argument("--history-ops", type=int, default=20, help="startHitl per history size")
    parser.add_argument("--tickets", type=int, default=64, help="tickets the messages and replies are spread over")
    parser.add_argument("--ticket-replies", type=int, default=10, help="agent comments on each ticket beforehand")
    parser.add_argument(
        "--only",
        type=_operations,
        default=OPERATIONS,
        help=f"the series to run, comma-separated among {','.join(OPERATIONS)} (default: all)",
    )
    parser.add_argument("--checked-fakes", action="store_true", help="the fakes check every call against OpenAPI")
    parser.add_argument("--log-level", default="INFO", help="the server's HITL_BRIDGE_LOG_LEVEL")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data) and say where")
    args = parser.parse_args(argv)
    args.reply_ops = args.reply_ops or args.ops
    args.reply_ops_concurrent = args.reply_ops_concurrent or args.ops_concurrent
    if args.workers > 1 and not args.database_url:
        parser.error("--workers above 1 needs --database-url (the workers share PostgreSQL)")
    return args


def _operations(text: str) -> tuple[str, ...]:
    chosen = tuple(name for name in text.split(",") if name)
    unknown = set(chosen) - set(OPERATIONS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown series {sorted(unknown)}: choose among {','.join(OPERATIONS)}")
    return chosen


def _sizes(text: str) -> list[int]:
    return [int(size) for size in text.split(",") if size]


@asynccontextmanager
async def database(server_url: str | None) -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database on ``server_url`` for the run (dropped after), or None: the embedded backend."""
    if server_url is None:
        yield None
        return
    async with fresh_database(server_url, prefix=BENCH_PREFIX) as url:
        yield url.get_secret_value()


async def run(args: argparse.Namespace, tmp: Path) -> int:
    async with database(args.database_url) as database_url:
        with started(
            tmp,
            args.latency_ms,
            checked=args.checked_fakes,
            workers=args.workers,
            database_url=database_url,
            log_level=args.log_level,
        ) as stack:
            return await drive(args, stack)


async def drive(args: argparse.Namespace, stack: Stack) -> int:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2 + 8, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        bridge = ops.Bridge(http, stack.server.url, stack.botpress.url, stack.zendesk.url)
        await bridge.setup()
        scenario = Scenario(args, bridge, stack)
        results = await scenario.run()
        failures = await scenario.check()
        print(report.header(args, stack))
        print(report.table(results))
        print(report.routes(results))
        for failure in failures:
            print(f"FAILED: {failure}")
        errors = sum(series.errors for series in results)
        print(f"\n{errors} errors, {len(failures)} failed checks")
        return 1 if errors or failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        folder = Path(tempfile.mkdtemp(prefix="bench-speed-"))
        print(f"logs and data in {folder}", file=sys.stderr)
        return asyncio.run(run(args, folder))
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as name:
        return asyncio.run(run(args, Path(name)))


if __name__ == "__main__":
    sys.exit(main())
