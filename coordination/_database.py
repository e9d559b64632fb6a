"""The database port: one interface over SQLite (embedded) and PostgreSQL (several workers).

SQL is written once, with ``?`` placeholders, in the common subset of both dialects (``INSERT ... ON CONFLICT``,
``RETURNING``); a backend translates the placeholders to its own. What differs (types, ``FOR UPDATE SKIP LOCKED``)
is asked of :attr:`Database.dialect`, and migrations carry one script per dialect.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
Row = Mapping[str, Any]
"""A result row, read by column name."""
Params = Sequence[Any]


class Connection(Protocol):
    """A connection held for one transaction (or a few reads that must see one state)."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return how many rows it changed."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of one query."""
        ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one query, or ``None``."""
        ...


@dataclass(frozen=True)
class Migration:
    """One schema step of one component. Never edit a released step: append a new one."""

    version: int
    name: str
    sqlite: str
    postgresql: str

    def script(self, dialect: Dialect) -> str:
        """The step's SQL for ``dialect`` (statements separated by ``;``)."""
        return self.sqlite if dialect == "sqlite" else self.postgresql


class Database(ABC):
    """An open database: transactions, reads and versioned migrations.

    Every write runs in :meth:`transaction`; a failure inside rolls everything back, so a crash or an error
    leaves no half of it. Connections are never shared between two open blocks.
    """

    dialect: Dialect

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for a few reads that must see one state."""

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of one query."""
        async with self.read() as connection:
            return await connection.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one query, or ``None``."""
        async with self.read() as connection:
            return await connection.fetch_one(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in a transaction of its own; how many rows it changed."""
        async with self.transaction() as connection:
            return await connection.execute(sql, params)

    @abstractmethod
    async def migrate(self, component: str, migrations: Iterable[Migration]) -> list[int]:
        """Apply the component's steps not applied yet, each in its own transaction; return their versions.

        Safe when several processes start at once: the steps of one component are applied under one lock.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """Close every connection (closing twice is harmless)."""


def statements(script: str) -> list[str]:
    """The non-empty statements of a migration script."""
    return [part.strip() for part in script.split(";") if part.strip()]
