"""The sandbox: an emulator of the part of Botpress a hitl integration talks to, in the same server.

``setup_sandbox(app)`` adds the chat page (``/sandbox``), the emulated Runtime API (``/sandbox/api/v1/chat/...``),
the webhook relay (``/webhook/<webhookId>/...``) and the startup/cleanup of the parts. See docs/sandbox.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import sys
from collections.abc import AsyncIterator, Mapping
from functools import partial

from aiohttp import web

from external_adapters.extensions import SANDBOX_GROUP, SANDBOX_PLUGIN_GROUP, DemoRequest, PrepareDemo, load_extension
from integration.app_keys import ADAPTER_BACKENDS, SETTINGS
from integration.settings import Settings

from .assembly import SANDBOX, Sandbox, SandboxOptions, start_sandbox
from .chat import chat_routes
from .fake_slack_setup import fake_slack_lines, mount_fake_slack, point_fake_slack, wants_fake_slack
from .plugin_config import PluginConfig
from .runtime_api import Botpress, create_runtime_api
from .runtime_api.errors import error_response
from .slot import NotStartedError, Slot

__all__ = ["SANDBOX", "Sandbox", "SandboxOptions", "options_from_settings", "sandbox_urls", "setup_sandbox"]

log = logging.getLogger(__name__)

API_PREFIX = "/sandbox/api"
_LOCAL_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def setup_sandbox(app: web.Application) -> None:
    """Add the sandbox's routes and lifecycle to the server (call it before the catch-all operations route)."""
    sandbox_slot: Slot[Sandbox] = Slot()
    botpress_slot: Slot[Botpress] = Slot()
    app[SANDBOX] = sandbox_slot
    settings = app[SETTINGS]
    if wants_fake_slack(handoff_adapter(settings), settings):
        app[SETTINGS] = mount_fake_slack(app, settings, _local_base(settings))
    app.add_subapp(API_PREFIX, create_runtime_api(botpress_slot))
    app.router.add_routes(chat_routes())
    app.router.add_route("*", "/webhook/{webhook_id}{tail:.*}", _forward_webhook)
    app.cleanup_ctx.append(partial(_lifespan, sandbox_slot, botpress_slot))
    app.on_shutdown.append(_close_feeds)


def options_from_settings(settings: Settings) -> SandboxOptions:
    """The sandbox's options for this server: it calls the integration on its local address."""
    persist = settings.data_dir / "sandbox.sqlite3" if settings.sandbox_persist else None
    return SandboxOptions(
        integration_url=_integration_url(settings),
        public_url=_self_url(settings),
        configuration=dict(settings.sandbox_configuration),
        renames=settings.renames,
        plugin=plugin_config(settings),
        persist_path=persist,
        concurrent_dispatch=settings.sandbox_concurrent_dispatch,
    )


def plugin_config(settings: Settings) -> PluginConfig:
    """The HITL plugin's configuration: ``HITL_BRIDGE_SANDBOX_PLUGIN`` (JSON), over what the adapter the sandbox hands
    off to is meant to run with (its ``hitl_bridge.sandbox_plugin`` hook), over the plugin's defaults."""
    recommended: Mapping[str, object] = load_extension(SANDBOX_PLUGIN_GROUP, handoff_adapter(settings)) or {}
    return PluginConfig.model_validate({**recommended, **settings.sandbox_plugin})


def sandbox_urls(settings: Settings) -> dict[str, str]:
    """What to print at start: the chat page, the emulated API and the webhook base."""
    base = _self_url(settings)
    return {
        "chat": f"{base}/sandbox",
        "botpress_api": f"{base}{API_PREFIX}",
        "webhooks": f"{base}/webhook/<webhookId>",
    }


def _self_url(settings: Settings) -> str:
    return settings.self_url


def _local_base(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in _LOCAL_HOSTS else settings.host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{host}:{settings.port}"


def _integration_url(settings: Settings) -> str:
    secret = settings.secret_path.get_secret_value().strip("/") if settings.secret_path else ""
    return f"{_local_base(settings)}/" + (f"{secret}/" if secret else "")


async def _lifespan(
    sandbox_slot: Slot[Sandbox], botpress_slot: Slot[Botpress], app: web.Application
) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    options = options_from_settings(settings)
    sandbox = await start_sandbox(options)
    sandbox_slot.fill(sandbox)
    botpress_slot.fill(sandbox.botpress)
    health_url = f"{_local_base(settings)}/health"
    point_fake_slack(app, f"{_local_base(settings)}/webhook/{sandbox.runtime.identity.webhook_id}")
    await _announce_demo_agent(app, settings)
    if fake_lines := fake_slack_lines(app, _self_url(settings)):
        print("\n".join(fake_lines), file=sys.stdout, flush=True)
    register = asyncio.create_task(sandbox.runtime.register_when_listening(health_url))
    try:
        yield
    finally:
        register.cancel()
        await asyncio.gather(register, return_exceptions=True)
        sandbox_slot.empty()
        botpress_slot.empty()
        await sandbox.close()


async def _announce_demo_agent(app: web.Application, settings: Settings) -> None:
    """Run the ``hitl_bridge.sandbox`` hook of the adapter the sandbox hands off to, and print its lines.

    An inbox, for example, makes a demo agent to log into its console with on a fresh machine; the lines may carry
    a password, so they go to stdout only, never to the log."""
    adapter = handoff_adapter(settings)
    backend = app.get(ADAPTER_BACKENDS, {}).get(adapter)
    prepare: PrepareDemo | None = load_extension(SANDBOX_GROUP, adapter) if settings.console else None
    if backend is None or prepare is None:
        return
    request = DemoRequest(_self_url(settings), _without_adapter(settings), reset_prefix(settings))
    try:
        lines = await prepare(backend, request)
    except Exception as exc:  # the server is still useful without it
        log.warning("sandbox: could not prepare %s's demo: %s", adapter, exc)
        return
    if lines:
        print("\n".join(lines), file=sys.stdout, flush=True)


def handoff_adapter(settings: Settings) -> str:
    """The adapter the sandbox's sessions hand off to: its configuration's ``adapter``, else the default one."""
    return str(settings.sandbox_configuration.get("adapter") or settings.adapter)


def _without_adapter(settings: Settings) -> dict[str, object]:
    return {k: v for k, v in settings.sandbox_configuration.items() if k != "adapter"}


def reset_prefix(settings: Settings) -> str:
    """The environment a ``hitl-bridge`` command needs to find the same data (empty for the default directory)."""
    if settings.data_dir == Settings.model_fields["data_dir"].default:
        return ""
    return f"HITL_BRIDGE_DATA_DIR={shlex.quote(str(settings.data_dir))} "


async def _close_feeds(app: web.Application) -> None:
    with contextlib.suppress(NotStartedError):
        app[SANDBOX].value.feed.close_all()


async def _forward_webhook(request: web.Request) -> web.StreamResponse:
    try:
        runtime = request.app[SANDBOX].value.runtime
    except NotStartedError:
        return error_response("Internal", "The sandbox is not running yet; try again in a moment")
    return await runtime.forward_webhook(request)
