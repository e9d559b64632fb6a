"""``hitl-bridge inbox create-admin``: create (or reset) an inbox admin account from the command line."""

from __future__ import annotations

import asyncio
from typing import TextIO

from external_adapters.errors import AdapterConfigError
from external_adapters.inbox import InboxService, parse_options
from external_adapters.inbox.errors import InboxError

from .settings import Settings


def create_admin_command(settings: Settings, email: str, password: str, out: TextIO) -> int:
    """Create the admin ``email``, or make an existing agent admin with this password. Returns the exit code."""
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
