"""Fixtures of the cross-process end-to-end tests: real servers as subprocesses on 127.0.0.1, always cleaned up.

``zendesk_server`` runs :mod:`tests.e2e.zendesk_server`; ``sandbox_server`` runs
``hitl-bridge sandbox --adapter zendesk`` (the console script of this interpreter's environment) pointed at it.
Every wait is a poll with a deadline; a process that dies early fails the test with the end of its log.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.05
CAT_PNG = b"\x89PNG\r\n\x1a\n" + b"e2e fake cat picture " * 8
ZENDESK_CREDENTIALS = {"subdomain": "acme", "email": "agent@acme.test", "apiToken": "t0ken"}


def child_env(**extra: str) -> dict[str, str]:
    """This environment without hitl-bridge/Botpress settings or proxies, plus ``extra``."""
    dropped = ("HITL_BRIDGE_", "BP_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    return {**env, "NO_PROXY": "*", "PYTHONUNBUFFERED": "1", **extra}


class Process:
    """A child process whose output goes to a log file; :meth:`stop` terminates it, killing it if need be."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 60) -> str:
        """The end of the process's output."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Fail at once if the process has exited."""
        code = self.popen.poll()
        if code is not None:
            pytest.fail(f"{self.name} exited with code {code}:\n{self.log_tail()}", pytrace=False)

    def stop(self) -> None:
        """Terminate, wait a bounded time, then kill; always reap and close the log."""
        try:
            if self.popen.poll() is None:
                self.popen.terminate()
                try:
                    self.popen.wait(STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait(STOP_TIMEOUT_SECONDS)
        finally:
            self._log.close()


def wait_ready(process: Process, url: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Poll ``GET url`` until it answers 200, failing early if the process dies."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            process.check_alive()
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
    pytest.fail(f"{process.name} did not answer {url} within {timeout:g}s:\n{process.log_tail()}", pytrace=False)


@dataclass
class Server:
    """A running server: its base URL and process."""

    url: str
    process: Process


def _started(request: pytest.FixtureRequest, process: Process) -> Process:
    request.addfinalizer(process.stop)
    return process


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """Files the end user sends by URL, served by the fake Zendesk under ``/media/``."""
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "cat.png").write_bytes(CAT_PNG)
    return folder


@pytest.fixture
def zendesk_server(request: pytest.FixtureRequest, tmp_path: Path, media_dir: Path) -> Iterator[Server]:
    """The fake Zendesk account over HTTP (``python -m tests.e2e.zendesk_server``)."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.e2e.zendesk_server", "--port", str(port), "--media-dir", str(media_dir)]
    process = _started(request, Process("fake Zendesk", argv, tmp_path / "zendesk.log", child_env()))
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/_test/violations")
    yield Server(url, process)


def hitl_bridge_script() -> Path:
    """The ``hitl-bridge`` console script installed next to this interpreter."""
    script = Path(sys.executable).parent / "hitl-bridge"
    if not script.exists():
        pytest.fail(f"{script} is missing: install the project (pip install -e '.[test]') first", pytrace=False)
    return script


@pytest.fixture
def sandbox_server(request: pytest.FixtureRequest, tmp_path: Path, zendesk_server: Server) -> Iterator[Server]:
    """``hitl-bridge sandbox --adapter zendesk`` on a free port, its configuration pointing at the fake Zendesk."""
    port = free_port()
    config = {**ZENDESK_CREDENTIALS, "baseUrl": zendesk_server.url}
    argv = [
        str(hitl_bridge_script()),
        "sandbox",
        "--adapter",
        "zendesk",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "bridge-data"),
        "--config",
        json.dumps(config),
    ]
    # The fake Zendesk and its media are on loopback: exactly what the setting opts in to.
    env = child_env(
        HITL_BRIDGE_CONSOLE="false", HITL_BRIDGE_LOG_LEVEL="INFO", HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS="true"
    )
    process = _started(request, Process("hitl-bridge sandbox", argv, tmp_path / "bridge.log", env))
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/health")
    yield Server(url, process)


async def eventually(
    check: Callable[[], Any],
    what: str,
    *,
    within_seconds: float = 20.0,
    diagnostics: Callable[[], Any] | None = None,
) -> Any:
    """Await ``check()`` (sync or async) until it returns something truthy; fail naming ``what`` in time."""
    deadline = time.monotonic() + within_seconds
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            details = diagnostics() if diagnostics else ""
            if inspect.isawaitable(details):
                details = await details
            pytest.fail(f"timed out after {within_seconds:g}s waiting for {what}\n{details}", pytrace=False)
        await asyncio.sleep(POLL_SECONDS)


# --- fixtures shared by the cluster tests (crash and workers) ------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """One keep-alive client to the cluster's proxy and the fakes."""
    async with httpx.AsyncClient(timeout=60.0, trust_env=False) as client:
        yield client


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for a cluster of workers (dropped after the test)."""
    from .cluster import fresh_database_url  # cluster.py imports this module

    async with fresh_database_url() as url:
        yield url


@pytest.fixture(params=["embedded", "postgresql"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[int, str | None]]:
    """``(workers, database_url)``: one worker on the embedded store, or three on a fresh PostgreSQL database."""
    from .cluster import fresh_database_url

    if request.param == "embedded":
        yield 1, None
        return
    async with fresh_database_url() as url:
        yield 3, url
