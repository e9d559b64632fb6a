"""What an adapter may add to the server besides its operations: web routes, CLI commands, a sandbox demo.

The HTTP edge finds these hooks by entry point, the way :mod:`.registry` finds adapters, so it never names an
adapter (see docs/adapters.md, "Web routes, commands and the sandbox"):

* ``hitl_bridge.web``: ``mount(app, edge) -> WebParts``, called while the aiohttp application is built; ``app`` is
  an ``aiohttp.web.Application`` (typed ``Any`` here: only an adapter's web subpackage may import aiohttp); pages
  for people (the inbox console), mounted only with ``HITL_BRIDGE_CONSOLE`` on, their adapter started with the server;
* ``hitl_bridge.routes``: the same hook, for routes an adapter needs to work whatever ``HITL_BRIDGE_CONSOLE`` says
  (Slack's re-served files): always mounted, the adapter started by the first request that needs it
  (``edge.started``);
* ``hitl_bridge.cli``: ``add_commands(parser)``, called with the ``hitl-bridge <adapter>`` sub-parser; each
  command sets ``run=<callable(args, CommandEnvironment) -> exit code>`` with ``parser.set_defaults``;
* ``hitl_bridge.sandbox``: ``async prepare_demo(backend, request) -> list[str]``, called when the sandbox starts
  and hands off to that adapter; the lines are printed on stdout (never logged: they may carry a password);
* ``hitl_bridge.sandbox_plugin``: a mapping, the HITL plugin configuration the adapter is meant to run with (the
  inbox's own assignment line replaces the plugin's joined line, see docs/inbox.md); the sandbox's emulated plugin
  starts from it, under ``HITL_BRIDGE_SANDBOX_PLUGIN``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

WEB_GROUP = "hitl_bridge.web"
ROUTES_GROUP = "hitl_bridge.routes"
CLI_GROUP = "hitl_bridge.cli"
SANDBOX_GROUP = "hitl_bridge.sandbox"
SANDBOX_PLUGIN_GROUP = "hitl_bridge.sandbox_plugin"
BUILTIN_EXTENSIONS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        WEB_GROUP: {"inbox": "external_adapters.inbox.console:mount"},
        ROUTES_GROUP: {
            "slack": "external_adapters.slack.web:mount",
            "inbox": "external_adapters.inbox.console.files_route:mount",
        },
        CLI_GROUP: {
            "inbox": "external_adapters.inbox.cli:add_commands",
            "slack": "external_adapters.slack.cli:add_commands",
        },
        SANDBOX_GROUP: {"inbox": "external_adapters.inbox.demo:prepare_demo"},
        SANDBOX_PLUGIN_GROUP: {"inbox": "external_adapters.inbox.demo:PLUGIN_CONFIGURATION"},
    }
)
"""The built-in adapters' hooks, found even when the package metadata is stale (as :mod:`.registry` does)."""


@dataclass(frozen=True)
class WebEdge:
    """What the server tells an adapter's web routes: its backend (once started) and how it is reached."""

    backend: Callable[[], object | None]
    """The value the adapter's ``lifespan`` yielded, or ``None`` before start-up or when it is not running."""
    started: Callable[[], Awaitable[object | None]] | None = None
    """The same value, the adapter's lifespan started in this process first if nothing started it yet (a route
    hit before any operation named the adapter, in a new worker say); ``None`` outside a server."""
    public_url: str | None = None
    trust_forwarded_for: bool = False


@dataclass(frozen=True)
class WebParts:
    """What a mount added: links for the home page and start-up banner, and paths whose errors keep its shape."""

    links: Sequence[tuple[str, str]] = ()
    """``(path, label)`` pairs, e.g. ``("/console", "Agent console: answer the handoffs")``."""
    error_prefixes: tuple[str, ...] = ()
    """Path prefixes whose escaped failures are answered ``{"error", "code"}`` rather than the SDK's body."""


@dataclass(frozen=True)
class CommandEnvironment:
    """What an adapter's command gets: the adapter's data directory and options, and the terminal."""

    data_dir: Path
    options: Mapping[str, Any]
    stdin: TextIO
    stdout: TextIO


@dataclass(frozen=True)
class DemoRequest:
    """What the sandbox tells an adapter's demo hook about this server."""

    public_url: str
    configuration: Mapping[str, Any] = field(default_factory=dict)
    """The installation's configuration the sandbox sends (without its ``adapter`` key)."""
    reset_prefix: str = ""
    """Environment to prefix to a ``hitl-bridge`` command so it finds the same data directory."""


WebMount = Callable[[Any, WebEdge], WebParts]
AddCommands = Callable[[Any], None]
PrepareDemo = Callable[[object, DemoRequest], Awaitable[list[str]]]


def extension_names(group: str) -> list[str]:
    """Names of the adapters that installed a hook in ``group`` (or have a built-in one)."""
    return sorted({ep.name for ep in entry_points(group=group)} | set(BUILTIN_EXTENSIONS.get(group, {})))


def load_extension(group: str, name: str) -> Any | None:
    """The hook ``name`` installed in ``group``, imported; ``None`` when that adapter has none.

    Raises:
        ImportError: the hook is declared but its module cannot be imported.
    """
    targets = {ep.name: ep.value for ep in entry_points(group=group)}
    target = targets.get(name) or BUILTIN_EXTENSIONS.get(group, {}).get(name)
    if target is None:
        return None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
