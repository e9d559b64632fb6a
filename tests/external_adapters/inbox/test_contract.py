"""The inbox passes the adapter contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from coordination import Coordinator
from external_adapters.contract import AdapterContract
from external_adapters.inbox import InboxService

from .conftest import Clock, add_agent
from .harness import WEBHOOK_URL, InboxHarness, make_adapter


class TestInboxContract(AdapterContract):
    @pytest.fixture
    async def harness(
        self, service: InboxService, tmp_path: Path, clock: Clock, coordinator: Coordinator
    ) -> AsyncIterator[InboxHarness]:
        agent = await add_agent(service, "alice")
        async with httpx.AsyncClient() as http:
            adapter = make_adapter(service, http, tmp_path, coordinator)
            await adapter.subscribe(WEBHOOK_URL)
            yield InboxHarness(adapter=adapter, service=service, agent=agent, clock=clock)
