"""Shared fixtures: a clean environment, the contract-checked Botpress mock, and a server on the fake desk."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from coordination import Coordinator, EmbeddedCoordinator
from external_adapters import register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from integration.settings import Settings
from tests.fakes import FakeAdapter, FakeDesk, FakeHarness
from tests.pg import fresh_database

if TYPE_CHECKING:
    from tests.contracts.botpress import BotpressMockRouter
    from tests.fake_botpress import FakeBotpress

# Imported as plugins (not at the top of this module) so that pytest rewrites their asserts.

pytest_plugins = ["tests.contracts.botpress", "tests.contracts.zendesk"]

FAKE_CONFIG = {"adapter": "fake", "secret": FakeHarness.secret}


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Keep process settings from leaking into tests (or out of them)."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("HITL_BRIDGE_", "BP_")):
            del os.environ[name]
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an in-process server on the fake desk, talking to the mocked Botpress."""
    from tests.contracts.botpress import BP_TEST_API_URL, TEST_TOKEN

    values: dict[str, Any] = {
        "adapter": "fake",
        "console": False,
        "sandbox": False,
        "bp_api_url": BP_TEST_API_URL,
        "bp_token": SecretStr(TEST_TOKEN),
        "data_dir": data_dir,
        "retry_max_wait_seconds": 0,
        # respx patches httpx's own transport: the in-process tests check every request against the contracts
        # there. The production default, aiohttp's client, is exercised over real HTTP (tests/e2e, sandbox tests).
        "http_client": "httpx",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def coordinator(tmp_path: Path) -> AsyncIterator[Coordinator]:
    """A real embedded coordinator, in a folder of its own (apart from any server's data folder on tmp_path)."""
    opened = await EmbeddedCoordinator.open(tmp_path / "test-coordinator")
    yield opened
    await opened.aclose()


@pytest.fixture
async def pg_url() -> AsyncIterator[SecretStr]:
    """The URL of a fresh PostgreSQL database for this test, dropped after it (tests/pg.py; skipped without a
    server locally, a failure in CI)."""
    async with fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once per coordination backend; pair it with ``database_url``."""
    kind: str = request.param
    return kind


@pytest.fixture
async def database_url(backend_kind: str) -> AsyncIterator[SecretStr | None]:
    """``None`` for the embedded backend, a fresh PostgreSQL database's URL for the other: what
    ``Settings.database_url`` (``HITL_BRIDGE_DATABASE_URL``) would hold."""
    if backend_kind == "sqlite":
        yield None
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture
def fake_botpress(bp_api: BotpressMockRouter) -> FakeBotpress:
    """A stateful Botpress behind the contract-checked router."""
    from tests.fake_botpress import FakeBotpress

    return FakeBotpress().install(bp_api)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default test settings."""
    register_adapter(FakeAdapter, clobber=True)
    return test_settings(tmp_path)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, settings: Settings, fake_botpress: FakeBotpress
) -> TestClient[web.Request, web.Application]:
    """An aiohttp test client on the real app, serving the fake desk."""
    app: web.Application = create_app(settings)
    return await aiohttp_client(app)


@pytest.fixture
def desk(client: TestClient[web.Request, web.Application]) -> FakeDesk:
    """The fake desk behind ``client``."""
    backend = client.app[ADAPTER_BACKENDS]["fake"]
    assert isinstance(backend, FakeDesk)
    return backend
