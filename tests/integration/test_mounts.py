"""Adapters' web routes and commands are found by entry point: the bridge mounts an adapter it never names."""

from __future__ import annotations

import argparse
import io
import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import extensions, register_adapter
from external_adapters.extensions import CLI_GROUP, WEB_GROUP, CommandEnvironment, WebEdge, WebParts
from integration import cli
from integration.app import create_app
from tests import conftest as shared
from tests.fake_botpress import FakeBotpress
from tests.fakes import FakeAdapter

seen_environments: list[CommandEnvironment] = []


def fake_mount(app: web.Application, edge: WebEdge) -> WebParts:
    """A ``hitl_bridge.web`` hook: one page that says whether the adapter's backend is running."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=f"backend running: {edge.backend() is not None}")

    app.router.add_get("/fakedesk", page)
    return WebParts(links=[("/fakedesk", "Fake desk: its page")], error_prefixes=("/fakedesk/api/",))


def fake_commands(parser: argparse.ArgumentParser) -> None:
    """A ``hitl_bridge.cli`` hook: ``hitl-bridge fake hello --name X``."""
    hello = parser.add_subparsers(dest="fake_command", required=True).add_parser("hello")
    hello.add_argument("--name", required=True)
    hello.set_defaults(run=_hello)


def _hello(args: argparse.Namespace, env: CommandEnvironment) -> int:
    seen_environments.append(env)
    print(f"hello {args.name}", file=env.stdout)
    return 7


@pytest.fixture
def fake_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the fake adapter's hooks as the only entry points."""
    installed = [
        EntryPoint("fake", f"{__name__}:fake_mount", WEB_GROUP),
        EntryPoint("fake", f"{__name__}:fake_commands", CLI_GROUP),
    ]
    monkeypatch.setattr(extensions, "entry_points", lambda group: [ep for ep in installed if ep.group == group])
    monkeypatch.setattr(extensions, "BUILTIN_EXTENSIONS", {})  # the fake adapter alone: no inbox to start


@pytest.mark.usefixtures("fake_hooks")
async def test_an_adapters_web_hook_is_mounted_linked_and_sees_its_backend(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    register_adapter(FakeAdapter, clobber=True)
    settings = shared.test_settings(tmp_path, console=True)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    assert await (await client.get("/fakedesk")).text() == "backend running: True"
    assert 'href="/fakedesk"' in await (await client.get("/")).text()


@pytest.mark.usefixtures("fake_hooks")
async def test_no_web_hook_is_mounted_when_the_console_setting_is_off(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress
) -> None:
    register_adapter(FakeAdapter, clobber=True)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(shared.test_settings(tmp_path, console=False)))
    assert (await client.get("/fakedesk")).status == 405  # the catch-all operations route takes only POST


@pytest.mark.usefixtures("fake_hooks")
def test_an_adapters_commands_run_in_its_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_BRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HITL_BRIDGE_ADAPTER_OPTIONS", '{"fake": {"colour": "blue"}}')
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    seen_environments.clear()
    assert cli.main(["fake", "hello", "--name", "Ann"]) == 7
    (env,) = seen_environments
    assert out.getvalue() == "hello Ann\n"
    assert env.data_dir == tmp_path / "fake" and dict(env.options) == {"colour": "blue"}
