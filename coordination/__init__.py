"""Shared state of the bridge's processes: the database port and the coordination port.

``Database`` runs SQL on SQLite (embedded, the default) or PostgreSQL (``HITL_BRIDGE_DATABASE_URL``);
``Coordinator`` offers the locks, claims, delivery journal, memo, notifications and leadership that make every
write happen once, through crashes and across workers. Neither knows anything of Botpress or of a helpdesk.
"""

from ._backend import Backend, check_backend, open_backend
from ._database import Connection, Database, Dialect, Migration, Params, Row
from ._embedded import EmbeddedCoordinator
from ._housekeeping import purge_forever
from ._local import BackendError, BackendInUseError, BackendUnavailableError
from ._pg_coordinator import PostgresCoordinator
from ._placeholders import PlaceholderError
from ._port import Coordinator, JournalEntry, JournalState, QueueState, WorkItem, WorkQueue, work_queue_of
from ._postgres import PostgresDatabase
from ._sqlite import SqliteDatabase

__all__ = [
    "Backend",
    "BackendError",
    "BackendInUseError",
    "BackendUnavailableError",
    "Connection",
    "Coordinator",
    "Database",
    "Dialect",
    "EmbeddedCoordinator",
    "JournalEntry",
    "JournalState",
    "Migration",
    "Params",
    "PlaceholderError",
    "PostgresCoordinator",
    "PostgresDatabase",
    "QueueState",
    "Row",
    "SqliteDatabase",
    "WorkItem",
    "WorkQueue",
    "check_backend",
    "open_backend",
    "purge_forever",
    "work_queue_of",
]
