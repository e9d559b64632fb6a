"""The inbox service: one per process, shared by every request and by the console.

It is composed of collaborators that share one :class:`~.core.Core` (store, options, clock, live hub, agents):
:attr:`InboxService.intake` (what Botpress asks), :attr:`InboxService.actions` (what agents do) and
:attr:`InboxService.queries` (what they read), each in its own module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from .actions import Actions
from .agents import AgentDirectory
from .config import InboxOptions
from .core import Core
from .delivery import Outbox
from .intake import Intake
from .queries import Queries
from .realtime import Hub
from .store import Store

logger = logging.getLogger(__name__)


class InboxService:
    """The embedded helpdesk: sessions, contacts, agents, routing, and delivery to Botpress."""

    def __init__(self, store: Store, options: InboxOptions, clock: Callable[[], float] = time.time) -> None:
        self.core = Core(store, options, clock)
        self.intake = Intake(self.core)
        self.actions = Actions(self.core, self.intake)
        self.queries = Queries(self.core)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def store(self) -> Store:
        """The inbox's database."""
        return self.core.store

    @property
    def options(self) -> InboxOptions:
        """The process options."""
        return self.core.options

    @property
    def clock(self) -> Callable[[], float]:
        """The clock every timestamp comes from (a fake one in tests)."""
        return self.core.clock

    @property
    def agents(self) -> AgentDirectory:
        """Agent accounts, passwords and login tokens."""
        return self.core.agents

    @property
    def hub(self) -> Hub:
        """The live channel's fan-out to the console's sockets."""
        return self.core.hub

    @property
    def outbox(self) -> Outbox | None:
        """The delivery worker, once :meth:`attach_outbox` gave it one."""
        return self.core.outbox

    @classmethod
    async def open(cls, data_dir: Path, options: InboxOptions, clock: Callable[[], float] = time.time) -> InboxService:
        """Open the store in ``data_dir`` (migrating it) and create the first admin from the options."""
        service = cls(await Store.open(data_dir), options, clock)
        if options.admin_email and options.admin_password:
            await service.agents.ensure_admin(options.admin_email, options.admin_password.get_secret_value())
        return service

    def attach_outbox(self, http: httpx.AsyncClient) -> Outbox:
        """Give the service its delivery worker (without starting it)."""
        self.core.outbox = Outbox(
            self.store,
            http,
            clock=self.clock,
            base_seconds=self.options.delivery_base_seconds,
            max_seconds=self.options.delivery_max_seconds,
        )
        return self.core.outbox

    def start(self, http: httpx.AsyncClient) -> None:
        """Start the outbox and claim-timeout workers."""
        outbox = self.attach_outbox(http)
        self._tasks = [
            asyncio.create_task(outbox.run(), name="inbox-outbox"),
            asyncio.create_task(self._expire_forever(), name="inbox-claim-timeouts"),
        ]

    async def _expire_forever(self) -> None:
        while True:
            try:
                await self.actions.expire_claims()
            except Exception:  # keep the worker alive; the next tick retries
                logger.exception("inbox claim timeout pass failed")
            await asyncio.sleep(self.options.timeout_poll_seconds)

    async def stop(self) -> None:
        """Stop the workers and close the store."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.store.close()


@contextlib.asynccontextmanager
async def running_service(
    data_dir: Path, options: InboxOptions, http: httpx.AsyncClient, clock: Callable[[], float] = time.time
) -> AsyncIterator[InboxService]:
    """An open, started service for the duration of the block."""
    service = await InboxService.open(data_dir, options, clock)
    service.start(http)
    try:
        yield service
    finally:
        await service.stop()
