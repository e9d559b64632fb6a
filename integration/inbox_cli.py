"""``hitl-bridge inbox create-admin``: create (or reset) an inbox admin account from the command line.

The password comes from a prompt (twice, not echoed), from standard input with ``--password-stdin`` (for
scripts: ``printf '%s\\n' "$PW" | hitl-bridge inbox create-admin --email a@b.c --password-stdin``), or from
``--password``, which other users of the machine can read in the process list.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import TextIO

from external_adapters.errors import AdapterConfigError
from external_adapters.inbox import InboxService, parse_options
from external_adapters.inbox.errors import InboxError

from .settings import Settings


class PasswordUnavailable(Exception):
    """No password could be read: the message says how to give one."""


def read_password(given: str | None, from_stdin: bool, stdin: TextIO) -> str:
    """The password: ``given``, else the first line of ``stdin`` (``from_stdin``), else asked at the terminal."""
    if given is not None:
        return given
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    if not stdin.isatty():
        raise PasswordUnavailable("no terminal to ask for the password on: pipe it in with --password-stdin")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise PasswordUnavailable("the two passwords differ")
    return password


def create_admin_cli(
    settings: Settings, email: str, given: str | None, from_stdin: bool, stdin: TextIO, out: TextIO
) -> int:
    """``inbox create-admin``: read the password (see :func:`read_password`), then :func:`create_admin_command`."""
    try:
        password = read_password(given, from_stdin, stdin)
    except (PasswordUnavailable, EOFError) as exc:
        print(f"error: {str(exc) or 'no password given'}", file=out)
        return 2
    return create_admin_command(settings, email, password, out)


def create_admin_command(settings: Settings, email: str, password: str, out: TextIO) -> int:
    """Create the admin ``email``, or make an existing agent admin with this password. Returns the exit code.

    Retry-safe: running it again with the same arguments leaves one admin with that password."""
    return asyncio.run(_create_admin(settings, email, password, out))


async def _create_admin(settings: Settings, email: str, password: str, out: TextIO) -> int:
    try:
        options = parse_options(settings.options_for("inbox"))
    except AdapterConfigError as exc:
        print(f"error: {exc}", file=out)
        return 2
    service = await InboxService.open(options.data_dir or settings.data_dir / "inbox", options)
    try:
        agent = await service.agents.ensure_admin(email, password, reset=True)
    except InboxError as exc:
        print(f"error: {exc}", file=out)
        return 2
    finally:
        await service.store.close()
    print(f"admin {agent.email} ready (id {agent.id}) in {service.store.path}", file=out)
    return 0
