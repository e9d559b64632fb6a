"""Every route the sandbox mounts answers hostile bodies below 500, without a traceback (enumerated from the router)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from external_adapters import register_adapter
from integration.sandbox import SANDBOX
from integration.settings import Settings
from tests.fakes import FakeAdapter, FakeHarness
from tests.live import free_port, live_app

pytestmark = pytest.mark.e2e
PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
BODIES = [
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 30_000 + "1" + "}" * 30_000,
    '{"text": "\\ud800", "name": "x\\udfff", "userId": "\\ud800", "conversationId": "\\udc00"}',
    "\udcff\udcfe",  # sent as the invalid UTF-8 it encodes
    '{"a": NaN}',
    "[]",
]
STREAMING = {"/sandbox/chat/stream"}  # server-sent events: an answer that never ends


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[web.Application, httpx.AsyncClient]]:
    register_adapter(FakeAdapter, clobber=True)
    settings = Settings(
        host="127.0.0.1",
        port=free_port(),
        adapter="fake",
        console=False,
        sandbox=True,
        data_dir=tmp_path,
        sandbox_configuration={"adapter": "fake", "secret": FakeHarness.secret},
        retry_max_wait_seconds=0,
    )
    async with live_app(settings) as running:
        yield running


def _sandbox_routes(app: web.Application) -> list[tuple[str, str]]:
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path") or info.get("prefix", "") + "/{filename}"
        if template.startswith(("/sandbox", "/webhook")) and route.method != "HEAD" and template not in STREAMING:
            routes.append(("POST" if route.method == "*" else route.method, template))
    return routes


async def test_every_sandbox_route_answers_hostile_bodies_below_500(sandbox: Any) -> None:
    app, http = sandbox
    identity = app[SANDBOX].value.runtime.identity
    headers = {
        "content-type": "application/json",
        "authorization": "Bearer sandbox",
        "x-bot-id": identity.bot_id,
        "x-integration-id": identity.integration_id,
    }
    routes = _sandbox_routes(app)
    assert len(routes) > 20 and any(t.startswith("/sandbox/api/") for _, t in routes)
    failures = []
    for method, template in routes:
        url = PARAM.sub("x", template)
        for body in BODIES:
            response = await http.request(method, url, content=body.encode("utf-8", "surrogatepass"), headers=headers)
            if response.status_code >= 500 or "Traceback" in response.text:
                failures.append(f"{method} {template} {body[:20]!r} -> {response.status_code} {response.text[:100]}")
    assert not failures, "\n".join(failures)
