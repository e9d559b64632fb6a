"""``hitl-bridge serve`` as a newcomer and an operator meet it: refusals, a busy port, --version, --help."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from integration.cli import build_parser, main
from integration.serving import package_version
from integration.settings import Settings
from tests.live import HOST

SCRIPT = Path(sys.executable).parent / "hitl-bridge"


class RunApp:
    """Stands in for ``web.run_app``: records the call and releases the socket instead of serving."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, app: web.Application, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        kwargs["sock"].close()


@pytest.fixture
def run_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunApp]:
    """``main(["serve"])`` returns instead of serving, on a free port and a fresh data dir."""
    fake = RunApp()
    monkeypatch.setattr(web, "run_app", fake)
    monkeypatch.setenv("HITL_BRIDGE_PORT", "0")
    monkeypatch.setenv("HITL_BRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HITL_BRIDGE_CONSOLE", "false")
    yield fake
    logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers if type(h) is not logging.StreamHandler]


def test_a_token_without_secret_path_or_bot_ids_is_refused(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BP_TOKEN", "bp_pat_secret")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "HITL_BRIDGE_SECRET_PATH" in err and "HITL_BRIDGE_ALLOWED_BOT_IDS" in err and "bp_pat_secret" not in err
    assert run_app.calls == []


@pytest.mark.parametrize(
    ("variable", "value"), [("HITL_BRIDGE_SECRET_PATH", "s3cret-path"), ("HITL_BRIDGE_ALLOWED_BOT_IDS", '["bot_1"]')]
)
def test_a_token_with_a_secret_path_or_bot_ids_serves(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BP_TOKEN", "bp_pat_secret")
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 0
    assert len(run_app.calls) == 1 and "INSECURE" not in capsys.readouterr().err


def test_insecure_opts_out_with_a_warning(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BP_TOKEN", "bp_pat_secret")
    monkeypatch.setenv("HITL_BRIDGE_INSECURE", "true")
    assert main(["serve"]) == 0
    assert len(run_app.calls) == 1
    warnings = [line for line in capsys.readouterr().err.splitlines() if " WARNING " in line]
    assert any("HITL_BRIDGE_INSECURE" in line for line in warnings)


def test_no_token_on_a_public_host_neither_starts_the_sandbox_nor_serves(
    run_app: RunApp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not Settings(host="0.0.0.0").sandbox_enabled
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "BP_TOKEN" in err and "HITL_BRIDGE_SANDBOX=true" in err
    assert run_app.calls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_no_token_on_loopback_gives_the_sandbox(host: str) -> None:
    assert Settings(host=host).sandbox_enabled
    assert Settings(host=host, public_url="http://localhost:8000").sandbox_enabled


def test_no_token_behind_a_public_url_neither_starts_the_sandbox_nor_serves(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HITL_BRIDGE_PUBLIC_URL", "https://bridge.example.com")  # a reverse proxy in front
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "'https://bridge.example.com'" in err and "HITL_BRIDGE_SANDBOX=true" in err
    assert run_app.calls == []


def test_the_sandbox_can_be_asked_for_on_any_host() -> None:
    settings = Settings(host="0.0.0.0", sandbox=True)
    assert settings.sandbox_enabled and settings.start_problem() is None


def test_a_newcomer_with_no_configuration_gets_the_sandbox(run_app: RunApp, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 0
    assert "Sandbox chat page:" in capsys.readouterr().out and len(run_app.calls) == 1


def test_a_busy_port_is_one_line_naming_the_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    with socket.create_server((HOST, 0)) as taken:
        port = taken.getsockname()[1]
        env |= {"HITL_BRIDGE_PORT": str(port), "HITL_BRIDGE_DATA_DIR": str(tmp_path)}
        done = subprocess.run([str(SCRIPT), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "HITL_BRIDGE_PORT" in lines[0] and "--port" in lines[0] and str(port) in lines[0]


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"hitl-bridge {package_version()}"


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_help_documents_each_flag_with_its_default_and_variable(command: str) -> None:
    subcommands = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(subcommands.choices, dict)
    parser = subcommands.choices[command]
    flags = [action for action in parser._actions if action.dest != "help"]
    assert flags
    for action in flags:
        setting = "sandbox_configuration" if action.dest == "config" else action.dest
        assert f"env HITL_BRIDGE_{setting.upper()}" in str(action.help), action.dest
        assert f"default {Settings.model_fields[setting].get_default(call_default_factory=True)}" in str(action.help)


def test_a_host_that_cannot_be_listened_on_is_one_line_naming_the_settings(
    run_app: RunApp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "--host", "203.0.113.9"]) == 2  # TEST-NET-3: no interface of this machine has it
    err = capsys.readouterr()
    assert err.out == ""
    assert err.err == (
        "hitl-bridge: cannot listen on 203.0.113.9:0 (Cannot assign requested address): "
        "change HITL_BRIDGE_HOST / --host or HITL_BRIDGE_PORT / --port\n"
    )


def test_a_data_folder_in_use_is_one_line_before_any_banner(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    env |= {"HITL_BRIDGE_PORT": "0", "HITL_BRIDGE_DATA_DIR": str(tmp_path)}
    holder = "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True);"
    holder += " sys.stdin.read()"
    lock_file = tmp_path / "coordination.lock"
    with subprocess.Popen(
        [sys.executable, "-c", holder, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as other:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        done = subprocess.run([str(SCRIPT), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
        other.communicate("")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(tmp_path) in lines[0] and "HITL_BRIDGE_DATABASE_URL" in lines[0]


def test_an_unreachable_database_is_one_line_that_never_shows_the_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    with socket.create_server((HOST, 0)) as closed:
        port = closed.getsockname()[1]  # a port nobody listens on once closed
    url = f"postgresql://hitl:hunter2-secret@{HOST}:{port}/hitl"
    env |= {"HITL_BRIDGE_PORT": "0", "HITL_BRIDGE_DATA_DIR": str(tmp_path), "HITL_BRIDGE_DATABASE_URL": url}
    done = subprocess.run([str(SCRIPT), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "HITL_BRIDGE_DATABASE_URL" in lines[0] and "hunter2" not in done.stderr
