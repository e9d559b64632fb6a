"""``hitl-bridge inbox create-admin``."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from external_adapters.inbox import InboxOptions, InboxService
from integration.inbox_cli import create_admin_command
from integration.settings import Settings


def test_create_admin_creates_then_resets(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    out = io.StringIO()
    assert create_admin_command(settings, "Root@Example.com", "first-password", out) == 0
    assert "admin root@example.com ready" in out.getvalue()
    assert create_admin_command(settings, "root@example.com", "second-password", out) == 0

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
    assert create_admin_command(Settings(data_dir=tmp_path), "root@example.com", "short", out) == 2
    assert "password: must be at least 8 characters" in out.getvalue()
