"""Fixtures every adapter's tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from coordination import Coordinator, open_backend
from tests.pg import fresh_database


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the adapter under test (its requests go to the test's respx routers)."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(params=["embedded", "postgresql"])
async def workers(request: pytest.FixtureRequest, coordinator: Coordinator, tmp_path: Path) -> AsyncIterator[Any]:
    """Two coordinators on one backend: two connections to a fresh PostgreSQL database (skipped without a server
    locally, a failure in CI: tests/pg.py), or, embedded, the one process's coordinator."""
    if request.param == "embedded":
        yield (coordinator, coordinator)
        return
    async with (
        fresh_database() as url,
        open_backend(tmp_path / "a", url) as first,
        open_backend(tmp_path / "b", url) as second,
    ):
        yield (first.coordinator, second.coordinator)
