"""Shared state of the bridge's processes: the database port and the coordination port.

``Database`` runs SQL on SQLite (embedded, the default) or PostgreSQL (``HITL_BRIDGE_DATABASE_URL``);
``Coordinator`` offers the locks, claims, delivery journal, memo, notifications and leadership that make every
write happen once, through crashes and across workers. Neither knows anything of Botpress or of a helpdesk.
"""

from ._backend import Backend, open_backend
from ._database import Connection, Database, Dialect, Migration, Params, Row
from ._embedded import EmbeddedCoordinator
from ._local import BackendInUseError
from ._port import Coordinator, JournalEntry, JournalState
from ._sqlite import SqliteDatabase

__all__ = [
    "Backend",
    "BackendInUseError",
    "Connection",
    "Coordinator",
    "Database",
    "Dialect",
    "EmbeddedCoordinator",
    "JournalEntry",
    "JournalState",
    "Migration",
    "Params",
    "Row",
    "SqliteDatabase",
    "open_backend",
]
