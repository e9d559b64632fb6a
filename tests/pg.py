"""A real PostgreSQL for the tests: a fresh database per test on the server HITL_BRIDGE_TEST_DATABASE_URL names.

Unset, the database tests are skipped (with the reason) on a developer's machine and fail in CI (``CI`` set).
Each database is created for one test and dropped after it, so tests never see each other's rows; only the
databases this module created are ever dropped.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import SecretStr

ENV_VAR = "HITL_BRIDGE_TEST_DATABASE_URL"
# Read at import, before the autouse fixture that clears HITL_BRIDGE_* variables for each test.
SERVER_URL = os.environ.get(ENV_VAR)
DATABASE_PREFIX = "hb_test_"


def require_server() -> str:
    """The server's URL; skip the test when it is unset (fail in CI)."""
    if SERVER_URL:
        return SERVER_URL
    reason = f"{ENV_VAR} is unset (a postgresql:// URL of a role that may CREATE DATABASE; see docs/testing.md)"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs PostgreSQL: {reason}")
    pytest.skip(reason)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@asynccontextmanager
async def fresh_database(server: str | None = None, prefix: str = DATABASE_PREFIX) -> AsyncIterator[SecretStr]:
    """A new empty database for the block, dropped after it (its leftover connections closed by force).

    On ``server`` (a benchmark's URL), else on the test server (:func:`require_server`).
    """
    server = server or require_server()
    name = f"{prefix}{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield SecretStr(with_database(server, name))
        finally:
            await _drop(admin, name)
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection[asyncpg.Record], name: str, tries: int = 50) -> None:
    """Drop the database, ending its leftover sessions. A session the role may not end (an autovacuum worker,
    without ``pg_signal_backend``) ends by itself soon: try again a little later."""
    for _ in range(tries - 1):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except asyncpg.InsufficientPrivilegeError:
            await asyncio.sleep(0.1)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
