"""HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS reaches the adapters: off, a Zendesk baseUrl elsewhere is a 400 naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from integration.app import create_app
from integration.app_keys import SERVICES
from tests import conftest as shared
from tests.factories import runtime_headers
from tests.fake_botpress import FakeBotpress

INSIDE = {"adapter": "zendesk", "subdomain": "acme", "accessToken": "t0ken", "baseUrl": "http://127.0.0.1:9"}


async def _served(aiohttp_client: Any, tmp_path: Path, **settings: Any) -> TestClient[Any, Any]:
    app = create_app(shared.test_settings(tmp_path, adapter="zendesk", **settings))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def test_a_base_url_inside_is_refused_by_default(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    client = await _served(aiohttp_client, tmp_path)
    body = json.dumps({"webhookUrl": "https://hook/1"})
    response = await client.post("/", data=body, headers=runtime_headers("register", INSIDE))
    assert response.status == 400
    message = (await response.json())["message"]
    assert "configuration.baseUrl" in message and "HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS=true" in message


@pytest.mark.parametrize("allowed", [False, True])
async def test_the_setting_reaches_every_adapter_environment(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, allowed: bool
) -> None:
    client = await _served(aiohttp_client, tmp_path, allow_vendor_base_urls=allowed, console=True)
    services = client.app[SERVICES]
    assert [services.env_for(name).allow_vendor_base_urls for name in ("zendesk", "inbox")] == [allowed, allowed]
