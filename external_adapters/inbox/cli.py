"""``hitl-bridge inbox create-admin``: create (or reset) an inbox admin account from the command line.

The password comes from a prompt (twice, not echoed), from standard input with ``--password-stdin`` (for
scripts: ``printf '%s\\n' "$PW" | hitl-bridge inbox create-admin --email a@b.c --password-stdin``), or from
``--password``, which other users of the machine can read in the process list.

The server adds these commands through the ``hitl_bridge.cli`` entry point (:func:`add_commands`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from typing import TextIO

from external_adapters.errors import AdapterConfigError
from external_adapters.extensions import CommandEnvironment

from .adapter import parse_options
from .errors import InboxError
from .service import InboxService


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The ``hitl_bridge.cli`` hook: ``hitl-bridge inbox create-admin``."""
    commands = parser.add_subparsers(dest="inbox_command", required=True)
    admin = commands.add_parser("create-admin", help="create (or reset) an inbox admin account")
    admin.add_argument("--email", required=True)
    given = admin.add_mutually_exclusive_group()
    given.add_argument("--password", help="the password (others can read it in the process list: prefer the prompt)")
    given.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    admin.set_defaults(run=_run_create_admin)


def _run_create_admin(args: argparse.Namespace, env: CommandEnvironment) -> int:
    return create_admin_cli(env, args.email, args.password, args.password_stdin)


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


def create_admin_cli(env: CommandEnvironment, email: str, given: str | None, from_stdin: bool) -> int:
    """``inbox create-admin``: read the password (see :func:`read_password`), then :func:`create_admin_command`."""
    try:
        password = read_password(given, from_stdin, env.stdin)
    except (PasswordUnavailable, EOFError) as exc:
        print(f"error: {str(exc) or 'no password given'}", file=env.stdout)
        return 2
    return create_admin_command(env, email, password)


def create_admin_command(env: CommandEnvironment, email: str, password: str) -> int:
    """Create the admin ``email``, or make an existing agent admin with this password. Returns the exit code.

    Retry-safe: running it again with the same arguments leaves one admin with that password."""
    return asyncio.run(_create_admin(env, email, password, env.stdout))


async def _create_admin(env: CommandEnvironment, email: str, password: str, out: TextIO) -> int:
    try:
        options = parse_options(dict(env.options))
    except AdapterConfigError as exc:
        print(f"error: {exc}", file=out)
        return 2
    service = await InboxService.open(options.data_dir or env.data_dir, options)
    try:
        agent = await service.agents.ensure_admin(email, password, reset=True)
    except InboxError as exc:
        print(f"error: {exc}", file=out)
        return 2
    finally:
        await service.store.close()
    print(f"admin {agent.email} ready (id {agent.id}) in {service.store.path}", file=out)
    return 0
