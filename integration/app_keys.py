"""Typed application state keys."""

from __future__ import annotations

import httpx
from aiohttp import web

from coordination import Backend
from external_adapters import AdapterEnvironment
from external_adapters.extensions import WebParts

from .operations import Dispatcher
from .services import Services
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKEND = web.AppKey("backend", Backend)
"""The coordination backend (embedded or PostgreSQL), open from before the adapters start until after they stop."""
BOTPRESS_HTTP = web.AppKey("botpress_http", httpx.AsyncClient)
"""One pooled client for every Runtime API call of this process."""
VENDOR_HTTP = web.AppKey("vendor_http", httpx.AsyncClient)
"""One pooled client for helpdesk APIs and media downloads."""
ADAPTER_ENV = web.AppKey("adapter_env", AdapterEnvironment)
ADAPTER_BACKENDS = web.AppKey("adapter_backends", dict[str, object | None])
"""What each enabled adapter's ``lifespan`` yielded, by adapter name."""
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
WEB_PARTS = web.AppKey("web_parts", list[WebParts])
"""What each adapter's ``hitl_bridge.web`` hook mounted (links, error-shape prefixes)."""
