"""The application factory: routes, shared clients and adapter lifespans."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
from aiohttp import web

from coordination import open_backend, purge_forever
from external_adapters import AdapterEnvironment
from external_adapters.registry import get_adapter_class

from .app_keys import (
    ADAPTER_BACKENDS,
    ADAPTER_ENV,
    BACKEND,
    BOTPRESS_HTTP,
    DISPATCHER,
    SERVICES,
    SETTINGS,
    VENDOR_HTTP,
)
from .handlers import health, no_content, no_tracebacks, operation
from .hitl.deferred_worker import WorkerPolicy, running_worker
from .home import home
from .mounts import mount_web
from .operations import Dispatcher
from .outgoing_http import outgoing_client
from .services import Services, adapter_environment
from .settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    botpress_transport: httpx.AsyncBaseTransport | None = None,
    vendor_transport: httpx.AsyncBaseTransport | None = None,
) -> web.Application:
    """Build the server. Transports can be injected for tests; by default real networking is used."""
    app = web.Application(client_max_size=32 * 1024 * 1024, middlewares=[no_tracebacks])
    app[SETTINGS] = settings
    # First in, last out: the adapters' lifespans start after the backend is open and stop before it closes.
    app.cleanup_ctx.append(_backend)
    app.cleanup_ctx.append(_clients(botpress_transport, vendor_transport))
    app.cleanup_ctx.append(_adapters)
    app.cleanup_ctx.append(_work_queue)  # after the adapters: it stops before their lifespans end
    app.router.add_get("/health", health)
    app.router.add_get("/favicon.ico", no_content)
    app.router.add_get("/", home)
    _mount_extras(app, settings)
    # Last: every other POST is a Botpress operation, whatever its path.
    app.router.add_post("/{tail:.*}", operation)
    return app


def _mount_extras(app: web.Application, settings: Settings) -> None:
    mount_web(app, settings)
    if settings.sandbox_enabled:  # a dev tool: imported only when it runs
        from .sandbox import setup_sandbox

        setup_sandbox(app)


async def _backend(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_backend(settings.data_dir, settings.database_url) as backend:
        app[BACKEND] = backend
        log.info("coordination backend: %s", "postgresql" if backend.coordinator.multi_process else "embedded")
        purging = asyncio.create_task(
            purge_forever(backend.coordinator, keep_seconds=settings.journal_retention_seconds), name="purge"
        )
        try:
            yield
        finally:
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging


def _clients(
    botpress_transport: httpx.AsyncBaseTransport | None, vendor_transport: httpx.AsyncBaseTransport | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def clients(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with (
            outgoing_client(settings, httpx.Timeout(settings.bp_timeout_seconds), botpress_transport) as botpress_http,
            outgoing_client(settings, httpx.Timeout(30.0), vendor_transport) as vendor_http,
        ):
            app[BOTPRESS_HTTP] = botpress_http
            app[VENDOR_HTTP] = vendor_http
            app[ADAPTER_ENV] = AdapterEnvironment(
                http=vendor_http,
                data_dir=settings.data_dir,
                coordinator=app[BACKEND].coordinator,
                database=app[BACKEND].database,
                options={},
                public_url=settings.self_url,
                allow_vendor_base_urls=settings.allow_vendor_base_urls,
            )
            yield

    return clients


async def _adapters(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    backends: dict[str, object | None] = {}
    async with AsyncExitStack() as stack:
        for name in settings.enabled_adapters:
            env = adapter_environment(app[ADAPTER_ENV], settings, name)
            backends[name] = await stack.enter_async_context(get_adapter_class(name).lifespan(env))
        services = Services(
            settings=settings,
            botpress_http=app[BOTPRESS_HTTP],
            adapter_env=app[ADAPTER_ENV],
            coordinator=app[BACKEND].coordinator,
            backends=backends,
        )
        app[ADAPTER_BACKENDS] = backends
        app[SERVICES] = services
        app[DISPATCHER] = Dispatcher(services)
        log.info("serving adapters %s", ", ".join(backends))
        yield


async def _work_queue(app: web.Application) -> AsyncIterator[None]:
    """The worker of the webhooks adapters answered first (integration/hitl/deferred_worker.py)."""
    settings = app[SETTINGS]
    policy = WorkerPolicy(lease_seconds=settings.work_lease_seconds, concurrency=settings.work_concurrency)
    async with running_worker(app[SERVICES], policy):
        yield
