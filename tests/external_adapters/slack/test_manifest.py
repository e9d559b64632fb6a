"""``hitl-bridge slack manifest --request-url URL``: the Slack app manifest."""

from __future__ import annotations

import json

import pytest

from external_adapters.extensions import CLI_GROUP, ROUTES_GROUP, extension_names
from external_adapters.slack.manifest import manifest
from integration.cli import main

URL = "https://bridge.example.com/hooks/wh_01JSLACK"


def test_the_command_prints_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack", "manifest", "--request-url", URL]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == manifest(URL)
    assert printed["oauth_config"]["scopes"]["bot"] == [
        "chat:write",
        "chat:write.customize",
        "users:read",
        "files:read",
        "files:write",
        "channels:history",
        "groups:history",
        "channels:join",
    ]
    settings = printed["settings"]
    assert settings["event_subscriptions"] == {"request_url": URL, "bot_events": ["message.channels", "message.groups"]}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": URL}
    assert printed["features"]["bot_user"]["display_name"] == "hitl-bridge"


def test_the_app_name_can_be_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack", "manifest", "--request-url", URL, "--name", "Acme support"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["display_information"]["name"] == "Acme support"


@pytest.mark.parametrize("url", ["http://bridge.example.com/hooks", "bridge.example.com", "https://"])
def test_a_request_url_that_is_not_https_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack", "manifest", "--request-url", url]) == 2
    assert "https://" in capsys.readouterr().out


def test_the_hooks_are_known_without_package_metadata() -> None:
    assert "slack" in extension_names(CLI_GROUP)
    assert "slack" in extension_names(ROUTES_GROUP)
