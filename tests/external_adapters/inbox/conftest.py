"""Fixtures of the inbox tests: a service with a clock the test moves, on each backend.

``service`` and ``opened`` run every test that uses them twice: on the embedded SQLite file in a temporary data dir,
and on PostgreSQL (a fresh database per test; skipped without ``HITL_BRIDGE_TEST_DATABASE_URL``, required in CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from coordination import Coordinator, Database, PostgresDatabase
from external_adapters.inbox.config import InboxOptions, InboxSession, Template
from external_adapters.inbox.intake import ContactInfo, NewSession
from external_adapters.inbox.models import Agent
from external_adapters.inbox.service import InboxService

INSTALLATION = "bot_1:intver_1"
PASSWORD = "correct horse battery"


class Clock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_options(**overrides: Any) -> InboxOptions:
    """Options with templates, labels and the e-mail preset on top of card numbers."""
    values: dict[str, Any] = {
        "admin_email": "admin@example.com",
        "admin_password": SecretStr(PASSWORD),
        "admin_token": SecretStr("admin-token-123"),
        "templates": [Template(shortcut="hello", text="Hello {{contactName}}, I am {{agentName}}.")],
        "redaction": ["card_number", "email"],
        "messages": {"fr": {"assigned": "Vous parlez avec {{agentName}}."}},
    }
    values.update(overrides)
    return InboxOptions.model_validate(values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


DatabaseFactory = Callable[[], Awaitable[Database | None]]
"""Opens the database one worker process would hold: ``None`` on the embedded backend (the service opens its own
file in its data dir), else a new connection pool on the test's PostgreSQL database."""


@pytest.fixture
async def databases(database_url: SecretStr | None) -> AsyncIterator[DatabaseFactory]:
    """Opens databases for the test's services (all on one fresh PostgreSQL database), and closes them at the end.

    ``database_url`` (tests/conftest.py) runs the test on each backend: embedded, then PostgreSQL."""
    opened: list[PostgresDatabase] = []

    async def open_database() -> Database | None:
        if database_url is None:
            return None
        opened.append(await PostgresDatabase.open(database_url, max_size=4))
        return opened[-1]

    yield open_database
    for database in opened:
        await database.aclose()


@pytest.fixture
async def opened(clock: Clock, databases: DatabaseFactory) -> AsyncIterator[Callable[..., Awaitable[InboxService]]]:
    """Opens services on a data dir (as a restart would: on PostgreSQL, a new pool on the same schema) and closes
    whatever is still open at the end. ``coordinator`` makes them workers that share one."""
    services: list[InboxService] = []

    async def open_one(data_dir: Path, coordinator: Coordinator | None = None, **options: Any) -> InboxService:
        database = await databases()
        services.append(
            await InboxService.open(
                data_dir, make_options(**options), clock, database=database, coordinator=coordinator
            )
        )
        return services[-1]

    yield open_one
    for svc in services:
        await svc.stop()


@pytest.fixture
async def service(tmp_path: Path, clock: Clock, databases: DatabaseFactory) -> AsyncIterator[InboxService]:
    svc = await InboxService.open(tmp_path / "inbox", make_options(), clock, database=await databases())
    await svc.intake.subscribe("bot_1", "intver_1", "wh_1", "http://hooks.test/wh_1")
    yield svc
    await svc.store.close()


async def add_agent(
    service: InboxService, name: str, *, status: str = "available", groups: tuple[str, ...] = (), role: str = "agent"
) -> Agent:
    """Create an agent with a status and groups."""
    agent = await service.agents.create(
        f"{name}@example.com",
        PASSWORD,
        name=name.title(),
        groups=groups,
        role=role,  # type: ignore[arg-type]
    )
    return await service.agents.set_status(agent.id, status)


async def open_session(
    service: InboxService,
    key: str = "key-1",
    *,
    email: str = "jane@example.com",
    transcript: tuple[tuple[str, str, dict[str, Any]], ...] = (),
    **options: Any,
) -> str:
    """A session for a contact, opened with the given card options."""
    contact_id = await service.intake.upsert_contact(
        ContactInfo(bp_user_id=f"user_{email}", name="Jane Doe", email=email)
    )
    return await service.intake.open_session(
        NewSession(
            installation_id=INSTALLATION,
            contact_id=contact_id,
            idempotency_key=key,
            options=InboxSession.model_validate(options),
            title="Help with my order",
            transcript=transcript,
        )
    )


async def events(service: InboxService, session_id: str) -> list[dict[str, Any]]:
    """The event bodies queued for Botpress for this session, oldest first."""
    import json

    rows = await service.store.fetch_all("SELECT body FROM outbox WHERE session_id = ? ORDER BY id", (session_id,))
    return [json.loads(row["body"]) for row in rows]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with test-sized costs: the scheme is the same, the waiting is not."""
    from argon2 import PasswordHasher

    from external_adapters.inbox import agents

    monkeypatch.setattr(agents, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
