"""``GET /`` answers a small page for whoever opens the server's URL in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from integration.app import create_app
from tests import conftest as shared
from tests.fake_botpress import FakeBotpress


async def test_the_root_is_a_page_not_a_405(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "POST" in page and 'href="/health"' in page and 'href="/console"' not in page


async def test_the_root_links_to_the_console_when_it_is_served(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    served: TestClient[Any, Any] = await aiohttp_client(create_app(shared.test_settings(tmp_path, console=True)))
    page = await (await served.get("/")).text()
    assert 'href="/console"' in page and 'href="/sandbox"' not in page


async def test_operations_are_still_posted_to_the_root(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/", data="{}")).status != 405
