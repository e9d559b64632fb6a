"""What a request's set-up works out once per process instead of on every request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integration.app import create_app
from integration.app_keys import SERVICES
from integration.context import context_from_headers
from integration.settings import Settings
from tests import conftest
from tests.factories import runtime_headers

CONFIGURATION = {"adapter": "zendesk", "subdomain": "acme", "email": "agent@acme.test", "apiToken": "t0ken"}


async def test_an_adapters_environment_is_made_once(tmp_path: Path, aiohttp_client: Any) -> None:
    app = create_app(conftest.test_settings(tmp_path, adapter="zendesk"))
    await aiohttp_client(app)
    ctx = context_from_headers(runtime_headers("ping", CONFIGURATION))

    first, second = app[SERVICES].deps_for(ctx), app[SERVICES].deps_for(ctx)

    assert first.adapter is not second.adapter  # a request's own objects stay its own
    assert first.adapter.context.env is second.adapter.context.env
    assert first.adapter.context.env.data_dir == tmp_path / "zendesk"


async def test_the_runtime_api_target_is_worked_out_once(
    tmp_path: Path, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(conftest.test_settings(tmp_path, adapter="zendesk"))
    await aiohttp_client(app)
    ctx = context_from_headers(runtime_headers("ping", CONFIGURATION))
    app[SERVICES].botpress_for(ctx)

    def parsed_again(self: Settings) -> bool:
        raise AssertionError("the listening host is parsed again on a request")

    monkeypatch.setattr(Settings, "sandbox_enabled", property(parsed_again))
    client = app[SERVICES].botpress_for(ctx)

    assert (client.bot_id, client.integration_alias) == (ctx.installation.bot_id, ctx.installation.integration_alias)
