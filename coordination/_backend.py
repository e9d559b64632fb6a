"""Choosing and opening the backend: embedded (no URL) or PostgreSQL (``HITL_BRIDGE_DATABASE_URL``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from ._database import Database
from ._embedded import EmbeddedCoordinator
from ._port import Coordinator


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
    """
    if database_url is None:
        coordinator = await EmbeddedCoordinator.open(data_dir)
        try:
            yield Backend(coordinator, None)
        finally:
            await coordinator.aclose()
        return
    raise NotImplementedError("the PostgreSQL backend is not written yet")
