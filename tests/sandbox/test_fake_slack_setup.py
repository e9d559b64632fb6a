"""The sandbox's Slack wiring: with the Slack adapter and no bot token, the sandbox mounts a fake Slack and sends
a configuration pointing at it; with a real token it changes nothing."""

from __future__ import annotations

from aiohttp import web

from integration.sandbox.fake_slack_setup import (
    FAKE_SLACK,
    PREFIX,
    fake_slack_lines,
    mount_fake_slack,
    point_fake_slack,
    wants_fake_slack,
)
from integration.settings import Settings

BASE = "http://127.0.0.1:8123"


def test_only_slack_without_a_bot_token_gets_the_fake() -> None:
    settings = Settings(sandbox=True)
    real = Settings(sandbox=True, sandbox_configuration={"botToken": "xoxb-real"})
    assert wants_fake_slack("slack", settings)
    assert not wants_fake_slack("slack", real)
    assert not wants_fake_slack("zendesk", settings)


def test_the_fake_is_mounted_and_the_configuration_points_at_it() -> None:
    app = web.Application()
    settings = mount_fake_slack(app, Settings(sandbox=True, sandbox_configuration={"mention": "<!here>"}), BASE)
    configuration = settings.sandbox_configuration
    assert configuration["apiBaseUrl"] == f"{BASE}{PREFIX}/api"
    assert configuration["botToken"].startswith("xoxb-sandbox-") and configuration["signingSecret"]
    assert (configuration["adapter"], configuration["mention"]) == ("slack", "<!here>")
    assert settings.allow_vendor_base_urls  # the fake is on loopback: the one vendor URL the sandbox opts in to
    fake = app[FAKE_SLACK]
    assert fake.workspace.bot_token == configuration["botToken"]
    assert fake.deliverer.settings.signing_secret == configuration["signingSecret"]
    point_fake_slack(app, f"{BASE}/webhook/w1")
    assert fake.deliverer.settings.request_url == f"{BASE}/webhook/w1"
    assert any(f"{BASE}{PREFIX}/" in line for line in fake_slack_lines(app, BASE))


def test_without_the_fake_nothing_is_printed() -> None:
    assert fake_slack_lines(web.Application(), BASE) == []
