"""Adapter lifespans for every adapter an installation may choose, and ``aclose()`` after every operation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient, TestServer

from external_adapters import AdapterEnvironment, register_adapter
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from integration.lifespans import AdapterLifespans, LifespansClosedError
from tests import conftest
from tests.factories import runtime_headers
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter, FakeDesk, FakeHarness

SECOND = {"adapter": "second", "secret": FakeHarness.secret}


class SecondAdapter(FakeAdapter):
    """A second desk, not the server's default: its lifespan counts its starts and exits."""

    name = "second"
    title = "Second desk"
    log: ClassVar[list[str]] = []
    closed: ClassVar[int] = 0

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        cls.log.append("start")
        yield FakeDesk()
        cls.log.append("exit")

    async def aclose(self) -> None:
        type(self).closed += 1


@pytest.fixture(autouse=True)
def second_adapter() -> None:
    register_adapter(FakeAdapter, clobber=True)
    register_adapter(SecondAdapter, clobber=True)
    SecondAdapter.log = []
    SecondAdapter.closed = 0


async def _register(client: TestClient[Any, Any], configuration: dict[str, Any]) -> int:
    body = json.dumps({"webhookUrl": "https://webhook.example/hook"})
    response = await client.post("/", data=body, headers=runtime_headers("register", configuration))
    return response.status


async def test_an_installation_naming_another_adapter_gets_its_backend(
    tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    client = TestClient(TestServer(create_app(conftest.test_settings(tmp_path))))
    await client.start_server()
    try:
        assert "second" not in client.app[ADAPTER_BACKENDS]  # not the default: nothing started yet
        assert await _register(client, {**SECOND, "secret": "x"}) == 400
        assert "second" not in client.app[ADAPTER_BACKENDS]  # nor for a configuration it refuses
        assert await _register(client, SECOND) == 200
        desk = client.app[ADAPTER_BACKENDS]["second"]
        assert isinstance(desk, FakeDesk) and desk.calls == ["subscribe"]
        assert await _register(client, SECOND) == 200
        assert SecondAdapter.log == ["start"] and desk.calls == ["subscribe", "subscribe"]
    finally:
        await client.close()
    assert SecondAdapter.log == ["start", "exit"]  # shutdown exits what a request started


async def test_two_concurrent_first_requests_start_it_once(tmp_path: Path, fake_botpress: FakeBotpress) -> None:
    client = TestClient(TestServer(create_app(conftest.test_settings(tmp_path))))
    await client.start_server()
    try:
        statuses = await asyncio.gather(*(_register(client, SECOND) for _ in range(4)))
    finally:
        await client.close()
    assert statuses == [200] * 4
    assert SecondAdapter.log == ["start", "exit"]


async def test_aclose_runs_after_every_operation_that_built_an_adapter(
    tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    client = TestClient(TestServer(create_app(conftest.test_settings(tmp_path))))
    await client.start_server()
    try:
        assert await _register(client, SECOND) == 200
        assert await _register(client, {**SECOND, "secret": "x"}) == 400  # refused config: no adapter was built
        failing = await client.post("/", data="{}", headers=runtime_headers("register", SECOND))
        assert failing.status == 400  # the operation failed after the adapter was built: closed all the same
    finally:
        await client.close()
    assert SecondAdapter.closed == 2


class _Gated:
    """A lifespan that waits for the test before it yields, so that starts overlap."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.log: list[str] = []

    @asynccontextmanager
    async def lifespan(self, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        self.log.append("start")
        await self.gate.wait()
        yield "backend"
        self.log.append("exit")


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> _Gated:
    gated = _Gated()
    monkeypatch.setattr(SecondAdapter, "lifespan", gated.lifespan)
    return gated


async def test_concurrent_starts_share_one_and_a_cancelled_caller_leaves_it_registered(gated: _Gated) -> None:
    async with AsyncExitStack() as stack:
        lifespans = AdapterLifespans(stack, lambda name: None)  # type: ignore[arg-type,return-value]
        callers = [asyncio.create_task(lifespans.backend("second")) for _ in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)
        callers[0].cancel()
        gated.gate.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError) and results[1:] == ["backend", "backend"]
        assert gated.log == ["start"] and lifespans.backends == {"second": "backend"}
        await lifespans.close()
        with pytest.raises(LifespansClosedError):
            await lifespans.backend("fake")
    assert gated.log == ["start", "exit"]


async def test_shutdown_waits_for_a_start_under_way_and_exits_it(gated: _Gated) -> None:
    async with AsyncExitStack() as stack:
        lifespans = AdapterLifespans(stack, lambda name: None)  # type: ignore[arg-type,return-value]
        caller = asyncio.create_task(lifespans.backend("second"))
        await asyncio.sleep(0)
        closing = asyncio.create_task(lifespans.close())
        await asyncio.sleep(0)
        gated.gate.set()
        await closing
        assert await caller == "backend"
    assert gated.log == ["start", "exit"]


async def test_a_failed_start_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    @asynccontextmanager
    async def flaky(env: AdapterEnvironment) -> AsyncIterator[object | None]:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("the database is not up yet")
        yield "up"

    monkeypatch.setattr(SecondAdapter, "lifespan", flaky)
    async with AsyncExitStack() as stack:
        lifespans = AdapterLifespans(stack, lambda name: None)  # type: ignore[arg-type,return-value]
        with pytest.raises(OSError, match="not up"):
            await lifespans.backend("second")
        assert await lifespans.backend("second") == "up"
    assert len(attempts) == 2
