"""A live socket lives as long as its login: closed by the server at sign-out and at expiry."""

from __future__ import annotations

import importlib
from typing import Any, cast

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from tests.external_adapters.inbox.conftest import Clock

from .conftest import live_socket

Client = TestClient[Any, Any]
# The package exports its handler as ``live``: import the module by name.
live_channel = importlib.import_module("external_adapters.inbox.console.live")


async def test_the_live_socket_closes_when_the_agent_signs_out(client: Client) -> None:
    ws, token = await live_socket(client, "admin@example.com")
    logout = await client.post("/console/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert logout.status == 200
    message = await ws.receive(timeout=5)
    assert message.type is WSMsgType.CLOSE and message.data == live_channel.LOGIN_ENDED
    again = await client.get("/console/api/live", headers={"Authorization": f"Bearer {token}"})
    assert again.status == 401


async def test_the_live_socket_closes_when_the_login_expires(
    client: Client, inbox: InboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_channel, "LOGIN_CHECK_SECONDS", 0.01)
    ws, _ = await live_socket(client, "admin@example.com")
    cast(Clock, inbox.clock).advance(inbox.options.login_hours * 3600 + 1)
    message = await ws.receive(timeout=5)
    assert message.type is WSMsgType.CLOSE and message.data == live_channel.LOGIN_ENDED
