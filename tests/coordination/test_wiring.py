"""The backend is chosen by the settings, opened before the adapters and shared with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr, ValidationError
from pytest_aiohttp import AiohttpClient

from coordination import BackendInUseError, EmbeddedCoordinator, JournalState, PostgresDatabase, open_backend
from external_adapters import register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_ENV, BACKEND, SERVICES
from integration.settings import Settings
from tests import conftest
from tests.fakes import FakeAdapter


def test_a_database_url_other_than_postgresql_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_BRIDGE_DATABASE_URL", "mysql://root:hunter2@db/hitl")
    with pytest.raises(ValidationError, match="HITL_BRIDGE_DATABASE_URL must be a postgresql:// URL") as raised:
        Settings()
    assert "hunter2" not in str(raised.value)


def test_a_postgresql_url_is_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_BRIDGE_DATABASE_URL", "postgresql://hitl:hunter2@db/hitl")
    settings = Settings()
    assert settings.database_url is not None
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


async def test_the_app_shares_one_embedded_coordinator_with_services_and_adapters(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    app: web.Application = client.app
    coordinator = app[BACKEND].coordinator
    assert isinstance(coordinator, EmbeddedCoordinator) and app[BACKEND].database is None
    assert app[SERVICES].coordinator is coordinator
    assert app[ADAPTER_ENV].coordinator is coordinator
    assert app[SERVICES].env_for("fake").coordinator is coordinator
    assert (settings.data_dir / "coordination.sqlite3").exists()


async def test_a_running_server_holds_its_data_folder(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    await aiohttp_client(create_app(settings))
    with pytest.raises(BackendInUseError, match="HITL_BRIDGE_DATABASE_URL"):
        async with open_backend(settings.data_dir, None):
            pass


async def test_the_data_folder_is_free_again_once_the_backend_closed(tmp_path: Path) -> None:
    async with open_backend(tmp_path, None) as backend:
        await backend.coordinator.done("k", "x")
    async with open_backend(tmp_path, None) as backend:
        assert (await backend.coordinator.intent("k")).external_id == "x"


async def test_the_app_runs_on_the_backend_the_settings_name(
    aiohttp_client: AiohttpClient, tmp_path: Path, database_url: SecretStr | None
) -> None:
    register_adapter(FakeAdapter, clobber=True)
    client = await aiohttp_client(create_app(conftest.test_settings(tmp_path, database_url=database_url)))
    backend = client.app[BACKEND]
    env = client.app[SERVICES].env_for("fake")
    assert backend.coordinator.multi_process is (database_url is not None)
    assert env.coordinator is backend.coordinator and env.database is backend.database
    if database_url is not None:
        assert isinstance(env.database, PostgresDatabase)
        assert await env.database.fetch_one("SELECT 1 AS one FROM coordination_journal WHERE key = ?", ("x",)) is None
    assert (await backend.coordinator.intent("x")).state is JournalState.NEW
