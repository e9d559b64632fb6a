"""Real processes: a kill -9 keeps the journal, a lock is exclusive between processes, and the embedded backend
refuses a second process on its data folder."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from coordination import BackendInUseError, JournalState, open_backend

from .conftest import wait_for_a_waiter

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def child(command: str, key: str, data_dir: Path, url: SecretStr | None, **env: str) -> Iterator[subprocess.Popen[str]]:
    """``python -m tests.coordination.child`` on the same backend; stopped (stdin closed, then killed) after."""
    variables = {**os.environ, "CHILD_DATA_DIR": str(data_dir), **env}
    if url is not None:
        variables["CHILD_DATABASE_URL"] = url.get_secret_value()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.coordination.child", command, key],
        cwd=ROOT,
        env=variables,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.kill()
        process.communicate(timeout=30)


async def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    async with asyncio.timeout(60):
        return await asyncio.to_thread(process.stdout.readline)


async def test_an_intent_survives_a_kill_9(tmp_path: Path, database_url: SecretStr | None) -> None:
    with child("intent", "msg:42", tmp_path, database_url) as process:
        assert await first_line(process) == "intent new 1\n"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    async with open_backend(tmp_path, database_url) as backend:
        entry = await backend.coordinator.intent("msg:42")
    assert (entry.state, entry.attempts) == (JournalState.PENDING, 2)


async def test_a_memo_entry_survives_a_kill_9(tmp_path: Path, database_url: SecretStr | None) -> None:
    # The embedded memo answers from memory: the row must be on disk all the same when memo_set returns.
    with child("memo", "ticket:42", tmp_path, database_url) as process:
        assert await first_line(process) == "memo set\n"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    async with open_backend(tmp_path, database_url) as backend:
        assert await backend.coordinator.memo_get("ticket:42") == "kept"


async def test_a_lock_is_exclusive_between_two_processes(tmp_path: Path, pg_url: SecretStr) -> None:
    marker = tmp_path / "released"
    with child("lock", "ticket:7", tmp_path, pg_url, CHILD_MARKER=str(marker)) as process:
        assert await first_line(process) == "locked\n"
        async with open_backend(tmp_path, pg_url) as backend:
            waiting = asyncio.create_task(_lock_and_look(backend.coordinator.lock("ticket:7"), marker))
            await wait_for_a_waiter(pg_url, "lock:ticket:7")
            assert not waiting.done()
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
            assert await waiting == "released"  # the child let go before this process got in


async def test_a_second_embedded_process_on_one_data_folder_is_refused(tmp_path: Path) -> None:
    with child("open", "", tmp_path, None) as process:
        assert await first_line(process) == "open\n"
        with pytest.raises(BackendInUseError, match=str(tmp_path)):
            async with open_backend(tmp_path, None):
                pass
    with child("open", "", tmp_path, None) as second:  # the first one is gone: the folder is free again
        assert await first_line(second) == "open\n"


async def _lock_and_look(lock: AbstractAsyncContextManager[None], marker: Path) -> str:
    async with lock:
        return await asyncio.to_thread(marker.read_text)
