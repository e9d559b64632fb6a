"""The outgoing clients keep no cookies: one installation's helpdesk cannot plant one in another's calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from integration.app import create_app
from integration.app_keys import BOTPRESS_HTTP, VENDOR_HTTP
from integration.outgoing_http import CookielessClient, outgoing_client
from tests import conftest
from tests.integration.test_aiohttp_transport import serving


async def test_a_cookie_an_answer_sets_is_never_sent_back(tmp_path: Path) -> None:
    seen: list[web.Request] = []

    async def answer(request: web.Request) -> web.Response:
        response = web.json_response({})
        response.set_cookie("session", "planted")
        return response

    settings = conftest.test_settings(tmp_path, http_client="aiohttp")
    async with serving(answer, seen) as url, outgoing_client(settings, httpx.Timeout(5.0), None) as http:
        first = await http.get(f"{url}/one")
        await http.get(f"{url}/two")

    assert first.headers["set-cookie"].startswith("session=planted")
    assert "cookie" not in seen[1].headers
    assert not http.cookies


async def test_both_clients_of_the_app_keep_no_cookies(tmp_path: Path, aiohttp_client: Any) -> None:
    app = create_app(conftest.test_settings(tmp_path, adapter="zendesk"))
    await aiohttp_client(app)

    assert isinstance(app[BOTPRESS_HTTP], CookielessClient)
    assert isinstance(app[VENDOR_HTTP], CookielessClient)
