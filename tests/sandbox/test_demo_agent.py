"""The sandbox's demo agent: on a fresh machine ``serve`` makes a console account that sandbox handoffs reach."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from external_adapters.inbox import InboxService
from external_adapters.inbox.demo import DEMO_EMAIL, DEMO_NAME, ensure_demo_agent, sandbox_groups
from integration.app_keys import ADAPTER_BACKENDS
from integration.sandbox import SANDBOX, Sandbox, handoff_adapter, reset_prefix
from integration.settings import Settings
from tests.external_adapters.inbox.conftest import cheap_password_hashes, make_options
from tests.live import free_port, live_app

__all__ = ["cheap_password_hashes"]  # autouse here too

OpenInbox = Callable[..., Awaitable[InboxService]]
NO_ADMIN = {"admin_email": None, "admin_password": None}


@pytest.fixture
async def open_inbox(tmp_path: Path) -> AsyncIterator[OpenInbox]:
    """Opens inbox services on one data dir (as restarts would); closes them at the end."""
    services: list[InboxService] = []

    async def open_one(**options: Any) -> InboxService:
        services.append(await InboxService.open(tmp_path / "inbox", make_options(**options)))
        return services[-1]

    yield open_one
    for service in services:
        await service.store.close()


async def test_a_fresh_inbox_gets_an_available_admin_whose_printed_password_signs_in(open_inbox: OpenInbox) -> None:
    service = await open_inbox(**NO_ADMIN)
    accounts = await ensure_demo_agent(service, ["vip"])

    assert accounts is not None and accounts.created == DEMO_EMAIL and accounts.password
    (agent,) = await service.agents.all()
    assert (agent.email, agent.name, agent.role, agent.status, agent.groups) == (
        DEMO_EMAIL,
        DEMO_NAME,
        "admin",
        "available",
        ["vip"],
    )
    assert await service.agents.authenticate(DEMO_EMAIL, accounts.password) == agent
    lines = accounts.lines("http://h:1/console")
    assert [line for line in lines if accounts.password in line] == [f"  Console password:    {accounts.password}"]
    assert f"  Console e-mail:      {DEMO_EMAIL}" in lines
    assert accounts.password not in repr(accounts)


async def test_a_restart_keeps_the_accounts_and_says_how_to_reset_a_password(open_inbox: OpenInbox) -> None:
    first = await ensure_demo_agent(await open_inbox(**NO_ADMIN))
    await (await open_inbox(**NO_ADMIN)).store.close()  # a restart
    service = await open_inbox(**NO_ADMIN)
    again = await ensure_demo_agent(service)

    assert first is not None and again is not None
    assert (again.created, again.password, again.kept) == (None, None, (DEMO_EMAIL,))
    assert len(await service.agents.all()) == 1
    lines = again.lines("http://h:1/console", "HITL_BRIDGE_DATA_DIR=/d ")
    assert first.password is not None and not any(first.password in line for line in lines)
    assert any(
        f"HITL_BRIDGE_DATA_DIR=/d hitl-bridge inbox create-admin --email {DEMO_EMAIL} --password" in line
        for line in lines
    )


async def test_any_existing_agent_is_kept_and_no_demo_agent_is_made(open_inbox: OpenInbox) -> None:
    service = await open_inbox(**NO_ADMIN)
    await service.agents.create("zoe@example.com", "a long password")
    accounts = await ensure_demo_agent(service)
    assert accounts is not None and accounts.kept == ("zoe@example.com",)
    assert [agent.email for agent in await service.agents.all()] == ["zoe@example.com"]


async def test_a_configured_admin_means_no_demo_agent(open_inbox: OpenInbox) -> None:
    service = await open_inbox()  # admin@example.com from the options
    assert await ensure_demo_agent(service) is None
    assert [agent.email for agent in await service.agents.all()] == ["admin@example.com"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "inbox"),
        ({"sandbox_configuration": {"adapter": "inbox", "language": "fr"}}, "inbox"),
        ({"adapter": "zendesk"}, "zendesk"),
        ({"sandbox_configuration": {"adapter": "zendesk"}}, "zendesk"),
    ],
)
def test_the_demo_hook_asked_is_that_of_the_adapter_the_sandbox_hands_off_to(
    values: dict[str, Any], expected: str
) -> None:
    assert handoff_adapter(Settings(**values)) == expected


def test_the_demo_agent_joins_the_groups_sandbox_sessions_carry() -> None:
    assert sandbox_groups({"adapter": "inbox", "defaultRuleTags": ["sales", "vip"]}) == ["sales", "vip"]
    assert sandbox_groups({}) == []
    assert sandbox_groups({"language": "not a language"}) == []  # reported by the integration, not here


def test_the_reset_hint_names_the_data_dir_only_when_it_is_not_the_default(tmp_path: Path) -> None:
    assert reset_prefix(Settings()) == ""
    assert reset_prefix(Settings(data_dir=tmp_path / "my dir")) == f"HITL_BRIDGE_DATA_DIR='{tmp_path}/my dir' "


# Through the real server: what is printed signs in, and a sandbox handoff is offered to that agent.


@asynccontextmanager
async def serving(tmp_path: Path, **values: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Sandbox, InboxService]]:
    """``serve``'s app (sandbox + inbox + console) on a real socket, once the integration is registered."""
    port = free_port()
    settings = Settings(host="127.0.0.1", port=port, sandbox=True, data_dir=tmp_path, **values)
    async with live_app(settings) as (app, http):
        service = app[ADAPTER_BACKENDS]["inbox"]
        assert isinstance(service, InboxService)
        yield http, app[SANDBOX].value, service


def printed_password(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("  Console password:")]
    return line.split(":", 1)[1].strip()


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("configuration", [{}, {"adapter": "inbox", "defaultRuleTags": ["vip"]}])
async def test_serve_prints_a_login_that_is_offered_the_sandbox_handoffs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, configuration: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(tmp_path, sandbox_configuration=configuration) as (http, sandbox, _):
        password = printed_password(capsys.readouterr().out)
        login = await http.post("/console/api/login", json={"email": DEMO_EMAIL, "password": password})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['token']}"}

        chat = (await http.post("/sandbox/chat/start", json={"name": "Ann"})).json()
        session = {"userId": chat["userId"], "conversationId": chat["conversationId"]}
        await http.post("/sandbox/chat/messages", json={**session, "text": "a human please"})
        await sandbox.idle()

        (item,) = (await http.get("/console/api/queue", headers=auth)).json()
        assert item["unclaimed"] is True and item["session"]["title"] == "Sandbox chat with Ann"
        claim = await http.post(f"/console/api/sessions/{item['session']['id']}/claim", headers=auth)
        assert claim.status_code == 200, claim.text

        async def user_told() -> bool:
            await sandbox.idle()
            messages = await sandbox.botpress.messages.select({"conversationId": session["conversationId"]})
            return any(m["payload"].get("text") == f"You are now chatting with {DEMO_NAME}." for m in messages)

        await _eventually(user_told, "the user to be told an agent joined")
    assert password not in caplog.text


async def test_serve_with_a_configured_admin_prints_no_demo_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"inbox": {"admin_email": "boss@example.com", "admin_password": "a long password"}}
    async with serving(tmp_path, adapter_options=options) as (_, _, service):
        assert [agent.email for agent in await service.agents.all()] == ["boss@example.com"]
    assert "Console" not in capsys.readouterr().out


async def test_serve_twice_on_one_data_dir_keeps_the_first_login(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serving(tmp_path):
        password = printed_password(capsys.readouterr().out)
    async with serving(tmp_path) as (_, _, service):
        out = capsys.readouterr().out
        assert await service.agents.authenticate(DEMO_EMAIL, password) is not None
    assert "Console password" not in out and password not in out
    assert f"kept from an earlier run ({DEMO_EMAIL})" in out
