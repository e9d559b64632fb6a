"""``hitl-bridge inbox create-admin``."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

from external_adapters.extensions import CommandEnvironment
from external_adapters.inbox import InboxOptions, InboxService
from external_adapters.inbox.cli import create_admin_command


def _environment(tmp_path: Path, out: io.StringIO) -> CommandEnvironment:
    """What ``hitl-bridge inbox ...`` gives the command: the inbox's data directory, no options."""
    return CommandEnvironment(tmp_path / "inbox", {}, io.StringIO(), out)


def test_create_admin_creates_then_resets(tmp_path: Path) -> None:
    out = io.StringIO()
    env = _environment(tmp_path, out)
    assert create_admin_command(env, "Root@Example.com", "first-password") == 0
    assert "admin root@example.com ready" in out.getvalue()
    assert create_admin_command(env, "root@example.com", "second-password") == 0

    async def check() -> tuple[bool, bool]:
        service = await InboxService.open(tmp_path / "inbox", InboxOptions())
        try:
            old = await service.agents.authenticate("root@example.com", "first-password")
            new = await service.agents.authenticate("root@example.com", "second-password")
            return old is not None, new is not None and new.role == "admin"
        finally:
            await service.store.close()

    assert asyncio.run(check()) == (False, True)


def test_create_admin_refuses_a_short_password(tmp_path: Path) -> None:
    out = io.StringIO()
    assert create_admin_command(_environment(tmp_path, out), "root@example.com", "short") == 2
    assert "password: must be at least 8 characters" in out.getvalue()


def _run_cli(tmp_path: Path, *flags: str, **popen: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HITL_BRIDGE_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "integration", "inbox", "create-admin", "--email", "root@example.com", *flags]
    return subprocess.Popen(command, env=env, cwd=Path(__file__).parents[4], **popen)


def _can_log_in(tmp_path: Path, password: str) -> bool:
    async def check() -> bool:
        service = await InboxService.open(tmp_path / "inbox", InboxOptions())
        try:
            return await service.agents.authenticate("root@example.com", password) is not None
        finally:
            await service.store.close()

    return asyncio.run(check())


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    process = _run_cli(tmp_path, "--password-stdin", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = process.communicate(b"piped password 1\n", timeout=60)
    assert process.returncode == 0, out
    assert b"admin root@example.com ready" in out and b"piped password 1" not in out
    assert _can_log_in(tmp_path, "piped password 1")


def test_create_admin_asks_for_the_password_at_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    # A session of its own: getpass then reads the pseudo-terminal on stdin, never the developer's terminal.
    process = _run_cli(tmp_path, stdin=follower, stdout=follower, stderr=follower, start_new_session=True)
    os.close(follower)
    seen = _answer(leader, [b"Password: ", b"Password again: "], b"typed password 1\n")
    assert process.wait(timeout=60) == 0, seen
    assert b"admin root@example.com ready" in seen and b"typed password 1" not in seen  # not echoed
    assert _can_log_in(tmp_path, "typed password 1")


def _answer(leader: int, prompts: list[bytes], answer: bytes) -> bytes:
    """Read the terminal until each prompt shows, answering it; return everything the command printed."""
    seen = b""
    for prompt in prompts:
        while not seen.endswith(prompt):
            seen += os.read(leader, 1024)
        os.write(leader, answer)
    with contextlib.suppress(OSError):  # EIO once the command has exited and closed the terminal
        while chunk := os.read(leader, 1024):
            seen += chunk
    os.close(leader)
    return seen


def test_create_admin_without_a_terminal_or_stdin_flag_says_how(tmp_path: Path) -> None:
    process = _run_cli(tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2 and b"--password-stdin" in out
