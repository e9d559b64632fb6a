"""The processes of ``bench_speed.py``: the two fakes and ``hitl-bridge serve``, and what ``/proc`` says of them.

Every process is started with :class:`tests.e2e.conftest.Process` (its output in a log file, terminated then
killed at the end). CPU time is ``utime + stime`` of ``/proc/<pid>/stat``, summed over a process and its
descendants (``serve --workers N`` forks its workers); RSS is ``VmRSS`` of ``/proc/<pid>/status``, summed the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.cluster import worker_env
from tests.e2e.conftest import HOST, Process, child_env, hitl_bridge_script, wait_ready
from tests.live import free_port

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Watched:
    """A started process whose CPU and memory the benchmark reads."""

    name: str
    url: str
    process: Process

    @property
    def pid(self) -> int:
        return self.process.popen.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its descendants (the live ones) so far."""
        return sum(_cpu_ticks(pid) for pid in _tree(self.pid)) / CLOCK_TICKS

    def rss_mib(self) -> float:
        """Resident memory of the process and its descendants."""
        return sum(_status_kb(pid, "VmRSS") for pid in _tree(self.pid)) / 1024

    def processes(self) -> int:
        return len(_tree(self.pid))


@dataclass
class Stack:
    """The fakes and the server of one run."""

    botpress: Watched
    zendesk: Watched
    server: Watched


@contextmanager
def started(
    tmp: Path, latency_ms: float, *, checked: bool, workers: int, database_url: str | None, log_level: str
) -> Iterator[Stack]:
    """Start the fake Zendesk, the fake Botpress and ``hitl-bridge serve --adapter zendesk``; stop them after."""
    with ExitStack() as stack:
        zendesk = _fake(stack, tmp, "zendesk", latency_ms, checked, ["--media-dir", str(_media(tmp)), "--quiet"])
        botpress = _fake(stack, tmp, "botpress", latency_ms, checked, [])
        env = worker_env(botpress.url, "zendesk", database_url, HITL_BRIDGE_LOG_LEVEL=log_level)
        port = free_port()
        argv = [str(hitl_bridge_script()), "serve", "--adapter", "zendesk", "--workers", str(workers)]
        argv += ["--host", HOST, "--port", str(port), "--data-dir", str(tmp / "data")]
        server = _watched(stack, "hitl-bridge serve", f"http://{HOST}:{port}", argv, tmp / "serve.log", env)
        wait_ready(server.process, f"{server.url}/health", timeout=60)
        yield Stack(botpress, zendesk, server)


def _fake(stack: ExitStack, tmp: Path, name: str, latency_ms: float, checked: bool, extra: list[str]) -> Watched:
    port = free_port()
    argv = [sys.executable, "-m", f"tests.e2e.{name}_server", "--port", str(port), "--delay-ms", str(latency_ms)]
    argv += extra + ([] if checked else ["--unchecked"])
    fake = _watched(stack, f"fake {name}", f"http://{HOST}:{port}", argv, tmp / f"{name}.log", child_env())
    wait_ready(fake.process, f"{fake.url}/_test/violations")
    return fake


def _watched(stack: ExitStack, name: str, url: str, argv: list[str], log: Path, env: dict[str, str]) -> Watched:
    process = Process(name, argv, log, env)
    stack.callback(process.stop)
    return Watched(name, url, process)


def _media(tmp: Path) -> Path:
    folder = tmp / "media"
    folder.mkdir(exist_ok=True)
    return folder


def _tree(root: int) -> list[int]:
    """``root`` and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


def _status_kb(pid: int, key: str) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0
