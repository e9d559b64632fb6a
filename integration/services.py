"""Process-wide services shared by every operation, and the per-request bundle built from them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
from pydantic import SecretStr

from coordination import Coordinator
from external_adapters import AdapterContext, AdapterEnvironment, HelpdeskAdapter
from external_adapters.http_retry import RetryPolicy
from external_adapters.registry import get_adapter_class

from .botpress import BotpressClient
from .context import OperationContext
from .lifespans import AdapterLifespans
from .settings import Settings
from .state_store import BotpressStateStore

log = logging.getLogger(__name__)
AdapterClass = type[HelpdeskAdapter[Any, Any]]
SANDBOX_TOKEN = SecretStr("sandbox")
"""The token sent to the sandbox's emulated Runtime API when no BP_TOKEN is set."""


@dataclass(frozen=True)
class Deps:
    """What one operation works with: its context, a Botpress client and an adapter instance."""

    ctx: OperationContext
    botpress: BotpressClient
    adapter: HelpdeskAdapter[Any, Any]
    services: Services


@dataclass
class Services:
    """Everything an operation needs beyond its request, created once per process.

    It keeps no guard of its own: locks, the delivery journal and shared caches are the coordinator's, so that
    every worker sees them and a crash loses none.
    """

    settings: Settings
    botpress_http: httpx.AsyncClient
    adapter_env: AdapterEnvironment
    coordinator: Coordinator
    """The coordination port (embedded or PostgreSQL): what every "not twice" guarantee goes through."""
    lifespans: AdapterLifespans
    """Every adapter's lifespan: started at start-up or on first use, exited at shutdown."""
    _environments: dict[str, AdapterEnvironment] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def _botpress_target(self) -> tuple[str, SecretStr | None, RetryPolicy]:
        """The Runtime API's URL, token and retry policy: fixed for the process. Worked out once, as reading them
        decides whether the sandbox runs, which parses the listening host (a third of a request's set-up)."""
        settings = self.settings
        token = settings.bp_token if settings.bp_token is not None or not settings.sandbox_enabled else SANDBOX_TOKEN
        retry = RetryPolicy(attempts=settings.retry_attempts, max_wait=settings.retry_max_wait_seconds)
        return settings.effective_bp_api_url, token, retry

    def botpress_for(self, ctx: OperationContext) -> BotpressClient:
        """A Runtime API client acting as this installation, forwarding the trace headers."""
        base_url, token, retry = self._botpress_target
        return BotpressClient(
            self.botpress_http,
            base_url=base_url,
            token=token,
            bot_id=ctx.installation.bot_id,
            integration_id=ctx.installation.integration_id,
            integration_alias=ctx.installation.integration_alias,
            trace_headers=ctx.trace_headers,
            retry=retry,
        )

    def env_for(self, adapter_name: str) -> AdapterEnvironment:
        """The environment of one adapter: shared clients, its own data folder and process options.

        Made once per adapter (it is frozen and the same for every request) and kept.
        """
        env = self._environments.get(adapter_name)
        if env is None:
            env = self._environments[adapter_name] = adapter_environment(self.adapter_env, self.settings, adapter_name)
        return env

    @property
    def backends(self) -> dict[str, object | None]:
        """What each started adapter's ``lifespan`` yielded, by adapter name."""
        return self.lifespans.backends

    @asynccontextmanager
    async def open_deps(self, ctx: OperationContext) -> AsyncIterator[Deps]:
        """The per-request bundle for one operation, foreground or background: the adapter's lifespan is started
        first if this process has not started it yet (never for a configuration it refuses), and the adapter's
        ``aclose()`` runs when the block ends, whatever way it ends.

        Raises:
            AdapterConfigError: the configuration is not valid for the adapter.
            UnknownAdapterError: the configuration names an adapter nobody provides.
        """
        cls = self.adapter_class_for(ctx)
        config = _config(cls, ctx)
        backend = await self.lifespans.backend(cls.name)
        botpress = self.botpress_for(ctx)
        deps = Deps(ctx, botpress, self._build(cls, config, ctx, botpress, backend), self)
        try:
            yield deps
        finally:
            await _close(deps.adapter)

    def deps_for(self, ctx: OperationContext) -> Deps:
        """Build the per-request bundle of a started adapter (validates the installation's configuration); the
        caller closes its adapter. :meth:`open_deps` does both, and starts the adapter's lifespan."""
        botpress = self.botpress_for(ctx)
        return Deps(ctx, botpress, self.adapter_for(ctx, botpress), self)

    def adapter_class_for(self, ctx: OperationContext) -> AdapterClass:
        """The adapter the installation's configuration names, else the process default."""
        name = ctx.configuration.get("adapter") or self.settings.adapter
        return get_adapter_class(str(name))

    def adapter_for(self, ctx: OperationContext, botpress: BotpressClient) -> HelpdeskAdapter[Any, Any]:
        """An adapter instance for this request, its configuration validated, on the backend its lifespan yielded
        (``None`` while it is not started: see :meth:`open_deps`).

        Raises:
            AdapterConfigError: the configuration is not valid for the adapter.
            UnknownAdapterError: the configuration names an adapter nobody provides.
        """
        cls = self.adapter_class_for(ctx)
        return self._build(cls, _config(cls, ctx), ctx, botpress, self.backends.get(cls.name))

    def _build(
        self, cls: AdapterClass, config: Any, ctx: OperationContext, botpress: BotpressClient, backend: object | None
    ) -> HelpdeskAdapter[Any, Any]:
        state = BotpressStateStore(botpress, ctx.installation.integration_id)
        return cls(config, AdapterContext(ctx.installation, state, self.env_for(cls.name), backend))


def _config(cls: AdapterClass, ctx: OperationContext) -> Any:
    return cls.parse_config({k: v for k, v in ctx.configuration.items() if k != "adapter"})


async def _close(adapter: HelpdeskAdapter[Any, Any]) -> None:
    # The operation's outcome stands (it may have written upstream): a failing aclose is logged, never answered.
    try:
        await adapter.aclose()
    except Exception as exc:
        log.warning("adapter %s: aclose failed: %s", adapter.name, exc, exc_info=exc)


def adapter_environment(base: AdapterEnvironment, settings: Settings, adapter_name: str) -> AdapterEnvironment:
    """Derive one adapter's environment from the shared one."""
    return AdapterEnvironment(
        http=base.http,
        data_dir=settings.data_dir / adapter_name,
        coordinator=base.coordinator,
        database=base.database,
        options=settings.options_for(adapter_name),
        public_url=base.public_url,
        allow_vendor_base_urls=base.allow_vendor_base_urls,
    )
