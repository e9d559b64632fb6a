"""Mount what adapters add to the server (web routes, CLI commands) through their entry points, naming none.

See :mod:`external_adapters.extensions` for the hooks and docs/adapters.md for how an adapter declares them.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from aiohttp import web

from external_adapters.extensions import (
    CLI_GROUP,
    ROUTES_GROUP,
    WEB_GROUP,
    AddCommands,
    WebEdge,
    WebMount,
    WebParts,
    extension_names,
    load_extension,
)

from .app_keys import ADAPTER_BACKENDS, SERVICES, WEB_PARTS
from .lifespans import LifespansClosedError
from .settings import Settings


def mount_web(app: web.Application, settings: Settings) -> None:
    """Mount every adapter's working routes (``hitl_bridge.routes``), then the pages of every enabled adapter that
    has some (``hitl_bridge.web``, when ``HITL_BRIDGE_CONSOLE`` allows them)."""
    app[WEB_PARTS] = []
    for name in extension_names(ROUTES_GROUP):
        route_mount: WebMount | None = load_extension(ROUTES_GROUP, name)
        if route_mount is not None:
            mount_one(app, settings, name, route_mount)
    if not settings.console:
        return
    for name in settings.enabled_adapters:
        mount: WebMount | None = load_extension(WEB_GROUP, name)
        if mount is not None:
            mount_one(app, settings, name, mount)


def mount_one(app: web.Application, settings: Settings, name: str, mount: WebMount) -> WebParts:
    """Mount one adapter's routes; they find its backend in the app's ``ADAPTER_BACKENDS`` once it started."""
    edge = WebEdge(
        backend=_backend_of(app, name),
        started=_started_of(app, name),
        public_url=settings.public_url,
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    parts = mount(app, edge)
    app.setdefault(WEB_PARTS, []).append(parts)
    return parts


def _backend_of(app: web.Application, name: str) -> Callable[[], object | None]:
    return lambda: app.get(ADAPTER_BACKENDS, {}).get(name)


def _started_of(app: web.Application, name: str) -> Callable[[], Awaitable[object | None]]:
    async def started() -> object | None:
        # The services exist once the app has started; before that (or after shutdown) there is nothing to start.
        services = app.get(SERVICES)
        if services is None:
            return None
        try:
            return await services.lifespans.backend(name)
        except LifespansClosedError:
            return None

    return started


def web_links(app: web.Application) -> list[tuple[str, str]]:
    """``(path, label)`` of every mounted adapter page, for the home page and the start-up banner."""
    return [link for parts in app.get(WEB_PARTS, []) for link in parts.links]


def add_adapter_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hitl-bridge <adapter> ...`` for every adapter with a ``hitl_bridge.cli`` hook."""
    for name in extension_names(CLI_GROUP):
        add: AddCommands | None = load_extension(CLI_GROUP, name)
        if add is not None:
            parser = commands.add_parser(name, help=f"commands of the {name} adapter")
            parser.set_defaults(adapter_name=name)
            add(parser)
