"""Console fixtures: an aiohttp app with only the console mounted, on a real inbox service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from integration.app_keys import ADAPTER_BACKENDS, SETTINGS
from integration.mounts import mount_web
from integration.settings import Settings
from tests.external_adapters.inbox.conftest import (
    PASSWORD,
    Clock,
    DatabaseFactory,
    cheap_password_hashes,
    make_options,
)

__all__ = ["cheap_password_hashes"]  # autouse here too
ADMIN_TOKEN = "admin-token-123"
CLIENT = {"X-Inbox-Client": "test"}


@pytest.fixture
async def inbox(tmp_path: Path, databases: DatabaseFactory) -> AsyncIterator[InboxService]:
    """The service behind the console, on each backend (``databases``: embedded, then PostgreSQL)."""
    service = await InboxService.open(tmp_path / "inbox", make_options(), Clock(), database=await databases())
    await service.intake.subscribe("bot_1", "intver_1", "wh_1", "http://hooks.test/wh_1")
    yield service
    await service.store.close()


@pytest.fixture
async def client(aiohttp_client: Any, inbox: InboxService, tmp_path: Path) -> TestClient[Any, Any]:
    app = web.Application()
    app[SETTINGS] = Settings(data_dir=tmp_path)
    backends: dict[str, object | None] = {"inbox": inbox}
    app[ADAPTER_BACKENDS] = backends
    mount_web(app, app[SETTINGS])
    result: TestClient[Any, Any] = await aiohttp_client(app)
    return result


async def login(client: TestClient[Any, Any], email: str = "admin@example.com") -> dict[str, Any]:
    """Log in (the cookie stays in the client's jar); return the body."""
    response = await client.post("/console/api/login", json={"email": email, "password": PASSWORD})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def live_socket(client: TestClient[Any, Any], email: str) -> tuple[Any, str]:
    """Log ``email`` in and open a live socket with its bearer token; return the socket (hello read) and token."""
    token = (await login(client, email))["token"]
    ws = await client.ws_connect("/console/api/live", headers={"Authorization": f"Bearer {token}"})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    return ws, token


# The browser tests' fixtures (test_browser_*.py).
from tests.external_adapters.inbox.console.browser_app import browser, console_server  # noqa: E402, F401
