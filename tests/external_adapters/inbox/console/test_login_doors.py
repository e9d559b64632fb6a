"""The console's login door: only JSON, throttled per account and per client address, and argon2 in its own
bounded pool."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from external_adapters.inbox import agents
from external_adapters.inbox.service import InboxService
from integration.app_keys import ADAPTER_BACKENDS, SETTINGS
from integration.mounts import mount_web
from integration.settings import Settings
from tests.external_adapters.inbox.conftest import PASSWORD, Clock, add_agent

from .conftest import login

Client = TestClient[Any, Any]
LOGIN = "/console/api/login"


@pytest.fixture
async def proxied(aiohttp_client: Any, inbox: InboxService, tmp_path: Path) -> Client:
    """The console behind a reverse proxy that sets X-Forwarded-For (and a setting that says so)."""
    app = web.Application()
    app[SETTINGS] = Settings(data_dir=tmp_path, trust_forwarded_for=True)
    backends: dict[str, object | None] = {"inbox": inbox}
    app[ADAPTER_BACKENDS] = backends
    mount_web(app, app[SETTINGS])
    result: Client = await aiohttp_client(app)
    return result


async def _try(client: Client, email: str, password: str, ip: str | None = None) -> int:
    headers = {"X-Forwarded-For": f"203.0.113.9, {ip}"} if ip else {}
    response = await client.post(LOGIN, json={"email": email, "password": password}, headers=headers)
    return response.status


async def test_five_failures_for_one_account_lock_it_for_a_minute(proxied: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "alice")
    assert [await _try(proxied, "admin@example.com", "wrong", f"10.0.0.{n}") for n in range(5)] == [401] * 5
    refused = await proxied.post(LOGIN, json={"email": "Admin@Example.com", "password": PASSWORD})
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Set-Cookie" not in refused.headers
    assert await _try(proxied, "alice@example.com", PASSWORD, "10.0.1.1") == 200  # other accounts are not locked
    cast(Clock, inbox.clock).advance(60)
    assert await _try(proxied, "admin@example.com", PASSWORD, "10.0.1.2") == 200  # the window slid


async def test_five_failures_from_one_address_lock_it_out(proxied: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "alice")
    statuses = [await _try(proxied, f"nobody{n}@example.com", "wrong", "10.0.0.7") for n in range(5)]
    assert statuses == [401] * 5
    refused = await proxied.post(
        LOGIN, json={"email": "alice@example.com", "password": PASSWORD}, headers={"X-Forwarded-For": "10.0.0.7"}
    )
    assert refused.status == 429 and refused.headers["Retry-After"].isdigit()
    assert await _try(proxied, "alice@example.com", PASSWORD, "10.0.0.8") == 200


async def test_x_forwarded_for_is_not_trusted_by_default(client: Client) -> None:
    for n in range(5):
        assert await _try(client, f"nobody{n}@example.com", "wrong", f"10.0.0.{n}") == 401
    assert await _try(client, "admin@example.com", PASSWORD, "10.0.0.99") == 429  # one peer: 127.0.0.1


async def test_good_logins_do_not_count_as_failures(client: Client) -> None:
    for _ in range(7):
        await login(client)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email=admin%40example.com&password=correct+horse+battery", "application/x-www-form-urlencoded"),
        ('{"email": "admin@example.com", "password": "correct horse battery"}', "text/plain"),
    ],
)
async def test_login_takes_only_json(client: Client, body: str, content_type: str) -> None:
    response = await client.post(LOGIN, data=body, headers={"Content-Type": content_type})
    assert response.status == 415 and "Set-Cookie" not in response.headers
    assert (await client.get("/console/api/me")).status == 401


async def test_argon2_runs_in_its_own_bounded_pool(inbox: InboxService, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    active, peak, lock = [0], [0], threading.Lock()
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    class Recording(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            with lock:
                threads.append(threading.current_thread().name)
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.005)  # overlap the calls that may overlap
            with lock:
                active[0] -= 1
            return cheap.verify(hash, password)

    monkeypatch.setattr(agents, "_hasher", Recording())
    names = [f"flood{n}" for n in range(8)]
    for name in names:
        await inbox.agents.create(f"{name}@example.com", PASSWORD)
    await asyncio.gather(*(inbox.agents.authenticate(f"{name}@example.com", "wrong password") for name in names))
    assert len(threads) == 8 and all(name.startswith("argon2") for name in threads), threads
    assert peak[0] <= agents.HASH_WORKERS
