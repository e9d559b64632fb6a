"""Every JSON error of the console and the admin API is ``{"error": message, "code": <HTTP status>, ...}``.

The console's app.js shows ``error``; API clients branch on ``code``, as they do on the operations' bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from integration.app_keys import ADAPTER_BACKENDS, SETTINGS
from integration.handlers import no_tracebacks
from integration.mounts import mount_web
from integration.settings import Settings
from tests.external_adapters.inbox.conftest import add_agent, open_session

from .conftest import ADMIN_TOKEN, CLIENT, login

Client = TestClient[Any, Any]
LOGIN = "/console/api/login"


async def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The answer is a JSON error with ``code`` equal to ``status`` and a readable ``error``."""
    body: dict[str, Any] = await response.json()
    assert (response.status, body.get("code")) == (status, status), body
    assert isinstance(body["error"], str) and body["error"], body
    return body


async def test_400_names_the_field_and_carries_its_code(client: Client) -> None:
    await login(client)
    response = await client.put("/console/api/me/status", json={"status": "asleep"}, headers=CLIENT)
    assert (await assert_error(response, 400))["field"] == "status"


async def test_401_of_the_api_the_login_and_the_live_channel(client: Client) -> None:
    await assert_error(await client.get("/console/api/me"), 401)
    await assert_error(await client.post(LOGIN, json={"email": "admin@example.com", "password": "wrong"}), 401)
    await assert_error(await client.get("/console/api/live"), 401)
    await assert_error(await client.get("/admin/api/sessions", headers={"Authorization": "Bearer wrong"}), 401)


async def test_403_of_a_cookie_write_without_the_client_header(client: Client) -> None:
    await login(client)
    await assert_error(await client.put("/console/api/me/status", json={"status": "busy"}), 403)


async def test_404_of_an_unknown_session(client: Client) -> None:
    await login(client)
    await assert_error(await client.get("/console/api/sessions/ses_nope"), 404)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    await assert_error(await client.get("/admin/api/sessions/ses_nope/transcript", headers=headers), 404)


async def test_409_of_a_message_to_a_contact_without_a_visible_session(client: Client, inbox: InboxService) -> None:
    await add_agent(inbox, "sally", groups=("sales",))
    session_id = await open_session(inbox, ruleTags=["billing"], claimTimeoutSeconds=600)
    await inbox.intake.link(session_id, "conv_billing")
    contact_id = (await inbox.queries.export(session_id))["contact"]["id"]
    await login(client, "sally@example.com")
    url = f"/console/api/contacts/{contact_id}/messages"
    await assert_error(await client.post(url, json={"text": "hi"}, headers=CLIENT), 409)


async def test_415_of_a_login_that_is_not_json(client: Client) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    await assert_error(await client.post(LOGIN, data="email=a%40b.c&password=x", headers=form), 415)


async def test_429_of_a_throttled_login(client: Client) -> None:
    for n in range(5):
        await client.post(LOGIN, json={"email": f"nobody{n}@example.com", "password": "wrong"})
    refused = await client.post(LOGIN, json={"email": "admin@example.com", "password": "wrong"})
    await assert_error(refused, 429)
    assert refused.headers["Retry-After"].isdigit()


async def _app_client(aiohttp_client: Any, tmp_path: Path, backends: dict[str, object | None]) -> Client:
    """The console behind the server's own error middleware, as ``create_app`` mounts it."""
    app = web.Application(middlewares=[no_tracebacks])
    app[SETTINGS] = Settings(data_dir=tmp_path)
    app[ADAPTER_BACKENDS] = backends
    mount_web(app, app[SETTINGS])
    result: Client = await aiohttp_client(app)
    return result


async def test_503_when_the_inbox_is_not_running(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await _app_client(aiohttp_client, tmp_path, {})
    await assert_error(await client.post(LOGIN, json={"email": "a@b.c", "password": "x"}), 503)


@pytest.mark.parametrize(("raised", "status"), [(RuntimeError("boom"), 500), (RecursionError(), 400)])
async def test_a_failure_escaping_a_console_route_keeps_the_console_shape(
    aiohttp_client: Any,
    tmp_path: Path,
    inbox: InboxService,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    status: int,
) -> None:
    async def broken(*args: Any) -> Any:
        raise raised

    monkeypatch.setattr(inbox.queries, "queue", broken)
    client = await _app_client(aiohttp_client, tmp_path, {"inbox": inbox})
    await login(client)
    body = await assert_error(await client.get("/console/api/queue"), status)
    assert "boom" not in body["error"]  # an unexpected failure's text stays in the log
