"""The inbox queue with many sessions: ``GET /queue`` (as the service computes it) over 500 sessions x 20 messages,
plain, sorted by waiting time, and searching message text, on the embedded backend and, with ``--database-url``,
on PostgreSQL (a fresh database, dropped after).

    PYTHONPATH=. /work/venv/bin/python bench/bench_queue.py [--sessions 500 --messages 20 --runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from coordination import PostgresDatabase
from external_adapters.inbox.config import InboxOptions, InboxSession
from external_adapters.inbox.intake import ContactInfo, NewSession
from external_adapters.inbox.models import QueueFilter
from external_adapters.inbox.service import InboxService
from external_adapters.inbox.store import dumps, new_id
from tests.pg import fresh_database

ADMIN = "admin@bench.test"
OPTIONS = InboxOptions.model_validate({"admin_email": ADMIN, "admin_password": SecretStr("a long bench password")})


async def seed(service: InboxService, sessions: int, messages: int) -> None:
    await service.intake.subscribe("bot_1", "intver_1", "wh_1", "http://127.0.0.1:9/wh_1")
    ids = []
    for n in range(sessions):
        contact = await service.intake.upsert_contact(ContactInfo(bp_user_id=f"u{n}", name=f"Contact {n}"))
        card = InboxSession.model_validate({})
        ids.append(await service.intake.open_session(NewSession("bot_1:intver_1", contact, f"k{n}", card, f"T {n}")))
    async with service.store.transaction() as db:  # the messages in one go: the queue is measured, not the seeding
        for n, session_id in enumerate(ids):
            for m in range(messages):
                direction = "user" if m % 2 else "agent"
                text = f"message {m} of session {n} about order {n * 100 + m}"
                await db.execute(
                    "INSERT INTO messages (id, session_id, direction, author_name, agent_id, type, payload, text, "
                    "bp_message_id, held, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (new_id("msg"), session_id, direction, None, None, "text", dumps({"text": text}), text,
                     None, 0, time.time()),
                )  # fmt: skip


async def measure(backend: str, service: InboxService, runs: int) -> list[str]:
    agent = await service.agents.find(ADMIN)
    assert agent is not None
    lines = []
    for what, flt in (
        ("all, by activity", QueueFilter(limit=1000)),
        ("all, longest waiting", QueueFilter(limit=1000, sort="waiting")),
        ("search in text", QueueFilter(limit=1000, search="order 4211")),
    ):
        samples, items = [], []
        for _ in range(runs):
            start = time.perf_counter()
            items = await service.queries.queue(agent, flt)
            samples.append((time.perf_counter() - start) * 1000)
        p50, p90 = statistics.median(samples), statistics.quantiles(samples, n=10)[-1]
        lines.append(f"| {backend} | {what} | {len(items)} | {p50:.1f} | {p90:.1f} |")
    return lines


async def main(sessions: int, messages: int, runs: int, database_url: str | None) -> None:
    print(f"{sessions} sessions x {messages} messages, {runs} runs each")
    print("| backend | queue | items | p50 ms | p90 ms |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        service = await InboxService.open(Path(folder), OPTIONS)
        await seed(service, sessions, messages)
        print("\n".join(await measure("embedded (SQLite)", service, runs)), flush=True)
        await service.store.close()
        if database_url:
            async with fresh_database(database_url, prefix="hb_bench_queue_") as url:
                database = await PostgresDatabase.open(url, max_size=4)
                service = await InboxService.open(Path(folder), OPTIONS, database=database)
                await seed(service, sessions, messages)
                print("\n".join(await measure("PostgreSQL", service, runs)), flush=True)
                await database.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("HITL_BRIDGE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(main(args.sessions, args.messages, args.runs, args.database_url))
