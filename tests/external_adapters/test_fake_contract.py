"""The fake desk obeys the adapter contract, so orchestration tests built on it mean something."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from coordination import Coordinator
from external_adapters import AdapterEnvironment, register_adapter
from external_adapters.contract import AdapterContract
from tests.fakes import FakeAdapter, FakeHarness, fake_adapter


class TestFakeAdapterContract(AdapterContract):
    @pytest.fixture
    async def harness(self, tmp_path: Path, coordinator: Coordinator) -> FakeHarness:
        register_adapter(FakeAdapter, clobber=True)
        env = AdapterEnvironment(http=httpx.AsyncClient(), data_dir=tmp_path, coordinator=coordinator)
        return FakeHarness(fake_adapter(env))
