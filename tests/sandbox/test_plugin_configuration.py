"""The sandbox's emulated HITL plugin starts from the configuration the handoff adapter is meant to run with."""

from __future__ import annotations

from pathlib import Path

from external_adapters.extensions import SANDBOX_PLUGIN_GROUP, extension_names
from integration.sandbox import plugin_config
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from integration.settings import Settings


def _settings(tmp_path: Path, adapter: str, plugin: dict[str, object] | None = None) -> Settings:
    return Settings(data_dir=tmp_path, adapter=adapter, sandbox_plugin=plugin or {})


def test_with_the_inbox_the_plugin_says_no_joined_line_of_its_own(tmp_path: Path) -> None:
    config = plugin_config(_settings(tmp_path, "inbox"))
    assert config.text("on_human_agent_assigned_message") is None
    assert config.text("on_hitl_handoff_message") == DEFAULT_TEXTS["on_hitl_handoff_message"]


def test_the_sandbox_setting_wins_over_the_adapter_s(tmp_path: Path) -> None:
    config = plugin_config(_settings(tmp_path, "inbox", {"onHumanAgentAssignedMessage": "An agent is here."}))
    assert config.text("on_human_agent_assigned_message") == "An agent is here."


def test_an_adapter_without_the_hook_keeps_the_plugin_s_defaults(tmp_path: Path) -> None:
    assert "zendesk" not in extension_names(SANDBOX_PLUGIN_GROUP)
    config = plugin_config(_settings(tmp_path, "zendesk"))
    assert config.text("on_human_agent_assigned_message") == DEFAULT_TEXTS["on_human_agent_assigned_message"]
