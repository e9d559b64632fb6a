"""``hitl-bridge serve --workers 3`` for real: three processes accept on one socket, each serves, a killed one is
restarted, SIGTERM stops them all. Read from ``/proc`` (Linux): which processes are the supervisor's children and
which listening socket each holds.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.contracts.botpress import TEST_TOKEN

from .cluster import fresh_database_url
from .conftest import HOST, POLL_SECONDS, Process, child_env, hitl_bridge_script

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")]
DEADLINE_SECONDS = 30.0
BANNER = re.compile(r"hitl-bridge \S+ on http://127\.0\.0\.1:(\d+)")


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database (a sync fixture: this test blocks on processes, it has no event loop to share)."""
    with asyncio.Runner() as runner:
        database = fresh_database_url()
        yield runner.run(database.__aenter__())
        runner.run(database.__aexit__(None, None, None))


def poll(check: Callable[[], object], what: str, process: Process) -> object:
    """Call ``check()`` until truthy, failing with the supervisor's log after :data:`DEADLINE_SECONDS`."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(POLL_SECONDS)
    pytest.fail(f"timed out waiting for {what}:\n{process.log_tail()}", pytrace=False)


def children(pid: int) -> set[int]:
    """The pids whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on ``port`` (``/proc/net/tcp``, state 0A)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """Inodes of every socket ``pid`` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def health(port: int) -> bool:
    try:
        with httpx.Client(timeout=2.0, trust_env=False) as http:  # a new connection each time
            return http.get(f"http://{HOST}:{port}/health").status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def stopped(pids: set[int]) -> Iterator[None]:
    """``pids`` frozen (SIGSTOP) for the block: they cannot accept."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def start_supervisor(tmp_path: Path, database_url: str) -> Process:
    argv = [str(hitl_bridge_script()), "serve", "--workers", "3", "--host", HOST, "--port", "0"]
    argv += ["--adapter", "zendesk", "--data-dir", str(tmp_path / "data")]
    env = child_env(BP_TOKEN=TEST_TOKEN, HITL_BRIDGE_INSECURE="true", HITL_BRIDGE_CONSOLE="false")
    env["HITL_BRIDGE_DATABASE_URL"] = database_url
    return Process("hitl-bridge serve --workers 3", argv, tmp_path / "supervisor.log", env)


class Supervised:
    """What the test sees of the supervisor: its port, its workers, their sockets."""

    def __init__(self, process: Process) -> None:
        self.process = process
        found = poll(lambda: BANNER.search(process.log_path.read_text()), "the banner", process)
        assert isinstance(found, re.Match)
        self.port = int(found.group(1))

    def workers(self, excluding: int | None = None) -> set[int]:
        """Once the supervisor has 3 children (none of them ``excluding``): their pids."""

        def three() -> set[int] | None:
            now = children(self.process.popen.pid)
            return now if len(now) == 3 and excluding not in now else None

        found = poll(three, "3 workers", self.process)
        assert isinstance(found, set)
        return found

    def all_hold(self, inode: str, pids: set[int]) -> bool:
        return all(inode in socket_inodes(pid) for pid in pids)

    def serves(self) -> None:
        poll(lambda: health(self.port), "the port to serve", self.process)

    def stop_all(self, pids: set[int]) -> None:
        self.process.popen.send_signal(signal.SIGTERM)
        assert self.process.popen.wait(DEADLINE_SECONDS) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_three_workers_share_one_port_each_serves_a_dead_one_comes_back_and_sigterm_stops_all(
    database_url: str, tmp_path: Path
) -> None:
    process = start_supervisor(tmp_path, database_url)
    try:
        supervised = Supervised(process)
        supervised.serves()
        workers = supervised.workers()
        (listening,) = listening_inodes(supervised.port)  # one socket on the port, chosen once (port 0)
        assert supervised.all_hold(listening, workers)
        for serving in workers:
            with stopped(workers - {serving}):
                assert health(supervised.port), f"worker pid {serving} alone did not serve"

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = supervised.workers(excluding=victim)
        assert re.search(rf"worker \d \(pid {victim}\) was killed by SIGKILL; restarting it", process.log_tail())
        poll(lambda: supervised.all_hold(listening, replaced) and health(supervised.port), "the new one", process)
        supervised.stop_all(replaced)
    finally:
        process.stop()
