"""The bot side's queue: what reaches the bot is handled off the API call, one item at a time or concurrently.

Botpress answers the integration's API call first and runs the bot's hooks afterwards; this queue gives the
sandbox the same shape. By default it runs one job at a time, in arrival order, which keeps a session's
messages and events in order but hides races: real Botpress handles each message and event on its own, so an
event can be handled while the plugin's ``startHitl`` is still running. ``concurrent=True`` (the setting
``HITL_BRIDGE_SANDBOX_CONCURRENT_DISPATCH``) starts every job as soon as it arrives, as Botpress does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class BotInbox:
    """One worker task draining a FIFO of jobs; a failing job is logged and the next one runs.

    With ``concurrent`` the worker starts each job in a task of its own instead of awaiting it.
    """

    def __init__(self, *, concurrent: bool = False) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._concurrent = concurrent
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start the worker (in the running loop)."""
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="sandbox-bot-inbox")

    async def stop(self) -> None:
        """Stop the worker and forget pending timers."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        tasks = [*self._running, *([self._worker] if self._worker is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._worker = None

    def submit(self, job: Job) -> None:
        """Queue ``job``."""
        self._queue.put_nowait(job)

    def submit_later(self, delay_seconds: float, job: Job) -> None:
        """Queue ``job`` after ``delay_seconds`` (lost if the process stops first)."""

        def fire() -> None:
            self._timers.discard(handle)
            self.submit(job)

        handle = asyncio.get_running_loop().call_later(delay_seconds, fire)
        self._timers.add(handle)

    async def idle(self) -> None:
        """Wait until every queued job (including those queued meanwhile) has run."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            if not self._concurrent:
                await self._run_one(job)
                continue
            task = asyncio.get_running_loop().create_task(self._run_one(job), name="sandbox-bot-job")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_one(self, job: Job) -> None:
        try:
            await job()
        except Exception:
            log.exception("sandbox: a bot-side job failed")
        finally:
            self._queue.task_done()
