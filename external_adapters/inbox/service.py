"""The inbox service: one per process, shared by every request and by the console.

It is composed of collaborators that share one :class:`~.core.Core` (store, options, clock, live hub, agents):
:attr:`InboxService.intake` (what Botpress asks), :attr:`InboxService.actions` (what agents do) and
:attr:`InboxService.queries` (what they read), each in its own module.

With a :class:`coordination.Coordinator` (several workers on PostgreSQL), every worker runs an outbox worker (rows
are leased, see :mod:`.delivery`) and a live relay (:mod:`.relay`), and one leader at a time runs the claim timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from coordination import Coordinator, Database

from .actions import Actions
from .agents import AgentDirectory
from .config import InboxOptions
from .core import Core
from .delivery import Outbox
from .intake import Intake
from .queries import Queries
from .queue import QueueReader
from .realtime import Hub
from .settings_store import SettingsStore
from .store import Store
from .team import Team

logger = logging.getLogger(__name__)
TIMEOUT_LEADERSHIP = "inbox-claim-timeouts"


class InboxService:
    """The embedded helpdesk: sessions, contacts, agents, routing, and delivery to Botpress."""

    def __init__(
        self,
        store: Store,
        options: InboxOptions,
        clock: Callable[[], float] = time.time,
        coordinator: Coordinator | None = None,
    ) -> None:
        self.core = Core(store, options, clock, coordinator)
        self.intake = Intake(self.core)
        self.actions = Actions(self.core, self.intake)
        self.queries = Queries(self.core)
        self.team = Team(self.core)
        self.settings = SettingsStore(store, clock)
        self.queue = QueueReader(self.core)
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

    @property
    def coordinator(self) -> Coordinator | None:
        """What the workers share (``None``: this process is the only one)."""
        return self.core.coordinator

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        options: InboxOptions,
        clock: Callable[[], float] = time.time,
        *,
        database: Database | None = None,
        coordinator: Coordinator | None = None,
    ) -> InboxService:
        """Open the store (migrating it) and create the first admin from the options.

        The store is the shared ``database`` when given (PostgreSQL, several workers), else the inbox's own file in
        ``data_dir``. Creating the admin is safe when several workers start at once (see
        :meth:`~.agents.AgentDirectory.ensure_admin`)."""
        store = await Store.on(database) if database is not None else await Store.open(data_dir)
        service = cls(store, options, clock, coordinator)
        await service.settings.seed(options)
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
            lease_seconds=self.options.delivery_lease_seconds,
            coordinator=self.coordinator,
            give_up_seconds=self.options.delivery_give_up_seconds,
            on_delivery=self._delivery_changed,
        )
        return self.core.outbox

    async def _delivery_changed(self, message_id: str) -> None:
        async with self.core.tx() as db:
            await self.core.live_delivery(db, message_id)

    def start(self, http: httpx.AsyncClient) -> None:
        """Start the outbox worker, the live relay and the claim-timeout worker (on the leader only)."""
        outbox = self.attach_outbox(http)
        self._tasks = [
            asyncio.create_task(outbox.run(), name="inbox-outbox"),
            asyncio.create_task(self.core.relay.run(), name="inbox-live-relay"),
            asyncio.create_task(self._claim_timeouts(), name="inbox-claim-timeouts"),
        ]

    async def _claim_timeouts(self) -> None:
        """One worker ends the timed-out sessions: the coordinator's leader for :data:`TIMEOUT_LEADERSHIP`."""
        if self.coordinator is None:
            await self._expire_forever()
        else:
            await self.coordinator.lead(TIMEOUT_LEADERSHIP, self._expire_forever)

    async def _expire_forever(self) -> None:
        while True:
            try:
                await self.actions.expire_claims()
            except Exception:  # keep the worker alive; the next tick retries
                logger.exception("inbox claim timeout pass failed")
            await asyncio.sleep(self.options.timeout_poll_seconds)

    async def stop(self) -> None:
        """Stop the workers and close the store (a shared database stays open for its owner to close)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.store.close()


@contextlib.asynccontextmanager
async def running_service(
    data_dir: Path,
    options: InboxOptions,
    http: httpx.AsyncClient,
    clock: Callable[[], float] = time.time,
    *,
    database: Database | None = None,
    coordinator: Coordinator | None = None,
) -> AsyncIterator[InboxService]:
    """An open, started service for the duration of the block."""
    service = await InboxService.open(data_dir, options, clock, database=database, coordinator=coordinator)
    service.start(http)
    try:
        yield service
    finally:
        await service.stop()
