"""The series ``bench_speed.py`` runs, in order, and the checks after them.

Every operation acts on a distinct handoff or message: each startHitl has its own new end user (createUser just
before, measured as its own series), each message and reply is new, each stopHitl closes another session.
Messages and replies are spread round-robin over ``--tickets`` sessions, so the requests in flight at once are
on different tickets (one ticket's comments are applied in order, one at a time, by design).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from collections.abc import Awaitable
from typing import Any

import speed_ops as ops
from speed_ops import Bridge, Prepared, Session
from speed_procs import Stack
from speed_series import Job, Series, run_series, timed

PREPARE_CONCURRENCY = 16


class Scenario:
    """One run's series and what they sent, for the checks."""

    def __init__(self, args: argparse.Namespace, bridge: Bridge, stack: Stack) -> None:
        self.args, self.bridge, self.stack = args, bridge, stack
        self.results: list[Series] = []
        self.numbers = itertools.count(1)
        self.sessions: list[Session] = []
        self.messages_sent: set[str] = set()
        self.replies_sent: set[str] = set()

    async def run(self) -> list[Series]:
        """Warm up (not measured), then every series of ``--only``."""
        await self.warm_up()
        only, high = self.args.only, self.args.concurrency
        if "start" in only:
            for concurrency, count in ((1, self.args.ops), (high, self.args.ops_concurrent)):
                self.sessions += await self.start_series(concurrency, count, 50, create_users=True)
        for size in self.args.history_sizes if "history" in only else []:
            await self.start_series(1, self.args.history_ops, size, create_users=False)
        tickets = await self.tickets()
        await _bounded([self.send_message(session) for session in tickets])  # the first of each user: not measured
        if "message" in only:
            await self.message_series(1, self.args.ops, tickets)
            await self.message_series(high, self.args.ops_concurrent, tickets)
        if "reply" in only:
            await self.warm_tickets(tickets)
            await self.reply_series(1, self.args.reply_ops, tickets)
            await self.reply_series(high, self.args.reply_ops_concurrent, tickets)
        if "stop" in only:
            await self.stop_series(tickets)
        return self.results

    async def warm_up(self) -> None:
        """A few of each operation first: connections, caches and the adapter's per-installation state."""
        sessions = await self.start_series(1, 2, 50, create_users=True, measured=False)
        for session in sessions:
            await self.send_message(session)
            await self.reply(session)

    async def measure(self, name: str, concurrency: int, jobs: list[Job]) -> Series:
        series = await run_series(name, concurrency, jobs, self.bridge, self.stack)
        self.results.append(series)
        print(
            f"  {name} at {concurrency}: {series.ops} ops, {series.errors} errors, {series.seconds:.1f} s", flush=True
        )
        return series

    # --- startHitl and createUser --------------------------------------------------------------------------------

    async def start_series(
        self, concurrency: int, count: int, history_size: int, *, create_users: bool, measured: bool = True
    ) -> list[Session]:
        """``count`` new end users (createUser, a series of its own if ``create_users``), then startHitl each."""
        numbers = [next(self.numbers) for _ in range(count)]
        bp_user_ids: dict[int, str] = {}
        user_jobs = [self._action_job(ops.create_user(n), "userId", bp_user_ids, n) for n in numbers]
        if measured and create_users:
            await self.measure("createUser", concurrency, user_jobs)
        else:
            await _unmeasured(user_jobs)
        starts = {n: ops.start_hitl(bp_user_ids[n], n, history_size) for n in numbers if n in bp_user_ids}
        conversation_ids: dict[int, str] = {}
        start_jobs = [self._action_job(start, "conversationId", conversation_ids, n) for n, start in starts.items()]
        name = f"startHitl, {history_size}-message history"
        await (self.measure(name, concurrency, start_jobs) if measured else _unmeasured(start_jobs))
        started = [(bp_user_ids[n], conversation_ids[n]) for n in numbers if n in conversation_ids]
        return await ops.sessions_of(self.bridge, started)

    def _action_job(self, prepared: Prepared, key: str, into: dict[int, str], number: int) -> Job:
        """An action whose output ``key`` is kept as ``into[number]``."""

        async def send() -> bool:
            status, body = await self.bridge.send(prepared)
            if status == 200:
                into[number] = ops.output(body)[key]
            return status == 200

        return lambda: timed(send)

    # --- messages and replies ------------------------------------------------------------------------------------

    async def tickets(self) -> list[Session]:
        """``--tickets`` open sessions for the messages and replies (more opened, unmeasured, if need be)."""
        missing = self.args.tickets - len(self.sessions)
        if missing > 0:
            self.sessions += await self.start_series(8, missing, 0, create_users=True, measured=False)
        return self.sessions[: self.args.tickets]

    async def message_series(self, concurrency: int, count: int, tickets: list[Session]) -> None:
        bodies = [self._new_message(tickets[i % len(tickets)]) for i in range(count)]
        await _bounded([self.bridge.fake_post(self.bridge.botpress_url, "/_test/seed_message", b) for b, _ in bodies])
        jobs = [self._send_job(prepared) for _, prepared in bodies]
        await self.measure("end-user message", concurrency, jobs)

    def _new_message(self, session: Session) -> tuple[Any, Prepared]:
        number = next(self.numbers)
        body, prepared = ops.message(session, number)
        self.messages_sent.add(f"bench-msg-{ops.RUN}-{number}")
        return json.loads(body), prepared

    async def send_message(self, session: Session) -> None:
        held, prepared = self._new_message(session)
        await self.bridge.fake_post(self.bridge.botpress_url, "/_test/seed_message", held)
        status, body = await self.bridge.send(prepared)
        assert status == 200, body

    def _send_job(self, prepared: Prepared) -> Job:
        async def send() -> bool:
            status, _ = await self.bridge.send(prepared)
            return status == 200

        return lambda: timed(send)

    async def warm_tickets(self, tickets: list[Session]) -> None:
        """``--ticket-replies`` agent comments on each ticket, only the last one delivered (not measured)."""
        if self.args.ticket_replies <= 0:
            return

        async def warm(session: Session) -> None:
            for _ in range(self.args.ticket_replies - 1):
                await ops.agent_comment(self.bridge, session, 0)  # recorded, never delivered
            await self.reply(session)

        await _bounded([warm(session) for session in tickets])

    async def reply(self, session: Session) -> None:
        """One agent reply, delivered, not measured."""
        number = next(self.numbers)
        for prepared in await ops.agent_comment(self.bridge, session, number):
            status, body = await self.bridge.send(prepared)
            assert ops.relayed_ok(status, body), body

    async def reply_series(self, concurrency: int, count: int, tickets: list[Session]) -> None:
        jobs = [self._reply_job(tickets[i % len(tickets)]) for i in range(count)]
        await self.measure("agent reply", concurrency, jobs)

    def _reply_job(self, session: Session) -> Job:
        async def job() -> tuple[float, bool]:
            number = next(self.numbers)
            self.replies_sent.add(f"bench-reply-{ops.RUN}-{number}")
            deliveries = await ops.agent_comment(self.bridge, session, number)  # not timed

            async def send() -> bool:
                answers = [await self.bridge.send(prepared) for prepared in deliveries]
                return bool(answers) and all(ops.relayed_ok(status, body) for status, body in answers)

            return await timed(send)

        return job

    # --- stopHitl, and the checks --------------------------------------------------------------------------------

    async def stop_series(self, tickets: list[Session]) -> None:
        """stopHitl at concurrency 1 then at the high one, each on sessions not stopped yet (the tickets last)."""
        rest = [s for s in self.sessions if s not in tickets] + tickets
        first, second = rest[: self.args.ops], rest[self.args.ops :]
        await self.measure("stopHitl", 1, [self._send_job(ops.stop_hitl(s)) for s in first])
        if second:
            await self.measure("stopHitl", self.args.concurrency, [self._send_job(ops.stop_hitl(s)) for s in second])

    async def check(self) -> list[str]:
        """What went wrong besides failed requests: lost messages or replies, missing tickets, contract violations."""
        failures = [f"contract violation: {v}" for v in await ops.violations(self.bridge)]
        lost = await ops.missing_messages(self.bridge, self.messages_sent)
        failures += [f"{len(lost)} end-user messages have no Zendesk comment: {sorted(lost)[:5]}"] if lost else []
        lost = await ops.missing_replies(self.bridge, self.replies_sent)
        failures += [f"{len(lost)} agent replies have no Botpress message: {sorted(lost)[:5]}"] if lost else []
        absent = await ops.missing_tickets(self.bridge, self.sessions)
        failures += [f"{len(absent)} sessions have no Zendesk ticket"] if absent else []
        return failures


async def _unmeasured(jobs: list[Job]) -> None:
    results = await _bounded([job() for job in jobs])
    failed = sum(1 for _, ok in results if not ok)
    assert not failed, f"{failed} of {len(jobs)} preparatory operations failed"


async def _bounded(coroutines: list[Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(PREPARE_CONCURRENCY)

    async def one(coroutine: Awaitable[Any]) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))
