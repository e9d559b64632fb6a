"""Putting the sandbox together: store, emulated Botpress, runtime side, plugin, bot and chat feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from definition.renames import Renames

from .bot import SandboxBot
from .feed import ChatFeed
from .ids import new_id, new_uuid
from .inbox import BotInbox
from .plugin import HitlPlugin
from .plugin_config import PluginConfig
from .runtime import SandboxRuntime
from .runtime_api import Botpress, Identity, IntegrationDefinition
from .slot import Slot
from .store import Store, open_store

DEFAULT_ALIAS = "hitl-bridge"
INTEGRATION_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class SandboxOptions:
    """How to run the sandbox (see :func:`options_from_settings` for the server's defaults)."""

    integration_url: str
    """Where the runtime side POSTs operations (the integration's own URL)."""
    public_url: str
    """Base of the webhook URL handed to the integration in ``register``."""
    configuration: dict[str, Any] = field(default_factory=dict)
    renames: Renames = field(default_factory=Renames)
    plugin: PluginConfig = field(default_factory=PluginConfig)
    integration_alias: str = DEFAULT_ALIAS
    persist_path: Path | None = None
    concurrent_dispatch: bool = False
    """Run the bot's jobs concurrently, as Botpress does, instead of one at a time (see :class:`BotInbox`)."""


@dataclass
class Sandbox:
    """The running parts."""

    store: Store
    botpress: Botpress
    runtime: SandboxRuntime
    plugin: HitlPlugin
    bot: SandboxBot
    inbox: BotInbox
    feed: ChatFeed
    http: httpx.AsyncClient

    async def idle(self) -> None:
        """Wait until the bot side has handled everything that reached it."""
        await self.inbox.idle()

    async def close(self) -> None:
        """Stop the worker, close the HTTP client and the store."""
        self.feed.close_all()
        await self.inbox.stop()
        await self.http.aclose()
        await self.store.close()


SANDBOX: web.AppKey[Slot[Sandbox]] = web.AppKey("sandbox", Slot)
"""The running sandbox, filled at the application's startup."""


async def start_sandbox(options: SandboxOptions) -> Sandbox:
    """Open the store, load (or make) the sandbox's identity, and wire every part together."""
    store = await open_store(options.persist_path)
    identity = await _identity(store, options.integration_alias)
    botpress = Botpress(store, identity, IntegrationDefinition(options.renames))
    if await botpress.users.find(identity.bot_user_id) is None:
        await botpress.create_user({}, "Sandbox bot", ident=identity.bot_user_id)
    http = httpx.AsyncClient(timeout=INTEGRATION_TIMEOUT_SECONDS, trust_env=False)
    runtime = SandboxRuntime(
        http,
        botpress,
        integration_url=options.integration_url,
        webhook_base_url=options.public_url,
        configuration=options.configuration,
    )
    inbox = BotInbox(concurrent=options.concurrent_dispatch)
    holder: list[SandboxBot] = []
    plugin = HitlPlugin(
        botpress,
        store,
        runtime,
        options.plugin,
        on_session_ended=lambda conversation_id: holder[0].session_ended(conversation_id),
        schedule=inbox.submit_later,
    )
    bot = SandboxBot(botpress, plugin, inbox)
    holder.append(bot)
    feed = ChatFeed(botpress)
    for listener in (feed, runtime, bot):
        botpress.subscribe(listener)
    inbox.start()
    return Sandbox(store, botpress, runtime, plugin, bot, inbox, feed, http)


async def _identity(store: Store, alias: str) -> Identity:
    saved = await store.get("sandbox", "identity")
    if saved is None:
        saved = {
            "bot_id": new_uuid(),
            "bot_user_id": new_id("user"),
            "integration_id": new_id("intver"),
            "integration_alias": alias,
            "webhook_id": new_uuid(),
        }
        await store.put("sandbox", "identity", saved)
    return Identity(**{**saved, "integration_alias": alias})
