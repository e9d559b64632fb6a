"""``GET /slack/files/<key>``: the agent's file at its signed URL; 403 otherwise; the safe headers."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from external_adapters.extensions import WebEdge
from external_adapters.slack.files_in import FileStore, StoredFile
from external_adapters.slack.runtime import SlackRuntime
from external_adapters.slack.web import mount
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from integration.settings import Settings

from .inbound_kit import PUBLIC_URL


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, store: FileStore) -> TestClient[Any, Any]:
    app = web.Application()
    runtime = SlackRuntime(files=store)
    mount(app, WebEdge(backend=lambda: runtime, public_url=PUBLIC_URL))
    result: TestClient[Any, Any] = await aiohttp_client(app)
    return result


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_signed_url_serves_the_file_with_safe_headers(client: TestClient[Any, Any], store: FileStore) -> None:
    now = time.time()
    await store.put(
        "k1", StoredFile(name="rapport final.pdf", content_type="application/pdf", content=b"%PDF-1.7 x"), now
    )
    response = await client.get(_path(store.signed_url(PUBLIC_URL, "k1", now)))
    assert response.status == 200
    assert await response.read() == b"%PDF-1.7 x"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''rapport%20final.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_an_image_is_shown_inline(client: TestClient[Any, Any], store: FileStore) -> None:
    now = time.time()
    await store.put("k2", StoredFile(name="cat.png", content_type="image/png", content=b"\x89PNG"), now)
    response = await client.get(_path(store.signed_url(PUBLIC_URL, "k2", now)))
    assert response.status == 200 and response.headers["Content-Disposition"].startswith("inline;")


async def test_a_bad_or_expired_signature_is_403(client: TestClient[Any, Any], store: FileStore) -> None:
    await store.put("k3", StoredFile(name="a.txt", content_type="text/plain", content=b"secret"), 0.0)
    expired = store.signed_url(PUBLIC_URL, "k3", 0.0)  # expired decades ago
    for path in (_path(expired), "/slack/files/k3", "/slack/files/k3?expires=99999999999&sig=00"):
        response = await client.get(path)
        assert response.status == 403, path
        assert b"secret" not in await response.read()


async def test_an_unknown_file_with_a_good_signature_is_404(client: TestClient[Any, Any], store: FileStore) -> None:
    response = await client.get(_path(store.signed_url(PUBLIC_URL, "missing", time.time())))
    assert response.status == 404


async def test_before_start_up_the_route_answers_503(aiohttp_client: AiohttpClient) -> None:
    app = web.Application()
    mount(app, WebEdge(backend=lambda: None))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.get("/slack/files/k1?expires=1&sig=x")
    assert response.status == 503


async def test_the_server_mounts_the_route_and_runs_the_slack_store(
    aiohttp_client: AiohttpClient, settings: Settings, fake_botpress: object
) -> None:
    settings = settings.model_copy(update={"console": True})
    server: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    response = await server.get("/slack/files/k1?expires=1&sig=x")
    assert response.status == 403  # mounted, and the first link started the adapter's lifespan (its store)
    assert isinstance(server.app[ADAPTER_BACKENDS]["slack"], SlackRuntime)
    assert (settings.data_dir / "slack" / "slack.sqlite3").exists()


async def test_with_the_console_off_a_link_works_on_a_server_that_never_served_slack(
    aiohttp_client: AiohttpClient, settings: Settings, fake_botpress: object
) -> None:
    """The route is not a page: HITL_BRIDGE_CONSOLE=false keeps it, and the first link starts the adapter's store
    (a worker whose default adapter is another one, before any Slack operation reached it)."""
    settings = settings.model_copy(update={"console": False, "adapter": "zendesk"})
    store = await FileStore.open(None, settings.data_dir / "slack")
    now = time.time()
    await store.put("k9", StoredFile(name="a.txt", content_type="text/plain", content=b"from the agent"), now)
    url = store.signed_url(PUBLIC_URL, "k9", now)
    await store.aclose()
    server: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    assert "slack" not in server.app[ADAPTER_BACKENDS]
    response = await server.get(_path(url))
    assert response.status == 200 and await response.read() == b"from the agent"
    assert isinstance(server.app[ADAPTER_BACKENDS]["slack"], SlackRuntime)
