"""Choosing and opening the backend: embedded (no URL) or PostgreSQL (``HITL_BRIDGE_DATABASE_URL``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from ._database import Database
from ._embedded import EmbeddedCoordinator
from ._local import BackendUnavailableError
from ._pg_coordinator import PostgresCoordinator
from ._port import Coordinator
from ._postgres import PostgresDatabase


@dataclass(frozen=True)
class Backend:
    """What the process shares: the coordinator, and the shared database when there is one."""

    coordinator: Coordinator
    database: Database | None
    """The PostgreSQL database every component keeps its tables in; ``None`` with the embedded backend, where a
    component with tables of its own opens its own SQLite file (:meth:`SqliteDatabase.open`) in its data folder."""


@asynccontextmanager
async def open_backend(data_dir: Path, database_url: SecretStr | None) -> AsyncIterator[Backend]:
    """Open the backend for the process's lifetime; close it (and release its locks) when the block ends.

    Raises:
        BackendInUseError: embedded, and another process serves from ``data_dir``.
        BackendUnavailableError: PostgreSQL, and its server cannot be reached or refuses the connection.
    """
    if database_url is None:
        embedded = await EmbeddedCoordinator.open(data_dir)
        try:
            yield Backend(embedded, None)
        finally:
            await embedded.aclose()
        return
    database = await _connect(database_url)
    try:
        coordinator = await PostgresCoordinator.open(database)
        try:
            yield Backend(coordinator, database)
        finally:
            await coordinator.aclose()
    finally:
        await database.aclose()


async def check_backend(data_dir: Path, database_url: SecretStr | None) -> None:
    """Fail now, before a server announces itself, if the backend could not open: the data folder is in use
    (embedded) or the PostgreSQL server cannot be reached (a connection is opened and closed).

    Raises:
        BackendError: why, in one line naming the setting to change.
    """
    if database_url is None:
        EmbeddedCoordinator.check_free(data_dir)
    else:
        await (await _connect(database_url)).aclose()


async def _connect(database_url: SecretStr) -> PostgresDatabase:
    try:
        return await PostgresDatabase.open(database_url)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # The driver's message names the host, port, user or database, never the password; the URL is not repeated.
        raise BackendUnavailableError(
            f"cannot connect to the PostgreSQL server of HITL_BRIDGE_DATABASE_URL ({type(exc).__name__}: {exc}): "
            "start it, or correct the URL (unset it to keep everything in SQLite in HITL_BRIDGE_DATA_DIR)"
        ) from None
