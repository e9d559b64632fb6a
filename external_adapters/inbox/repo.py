"""Row mapping and the queries the service shares. Functions take a connection the caller holds."""

from __future__ import annotations

from typing import Any

from .models import Agent, Contact, Installation, Message, Session, SessionState
from .store import Connection, Row, loads


def _optional(row: Row, key: str) -> Any:
    """A column some queries do not select (``sqlite3.Row`` has no ``get``)."""
    return row[key] if key in row.keys() else None  # noqa: SIM118 (``in`` on a sqlite3.Row tests its values)


def to_session(row: Row) -> Session:
    """A session row as a record."""
    return Session(
        id=row["id"],
        installation_id=row["installation_id"],
        contact_id=row["contact_id"],
        bp_conversation_id=row["bp_conversation_id"],
        state=SessionState(row["state"]),
        close_reason=row["close_reason"],
        assigned_agent_id=row["assigned_agent_id"],
        target_agent_id=row["target_agent_id"],
        claim_statuses=loads(row["claim_statuses"]),
        claim_deadline=row["claim_deadline"],
        rule_tags=loads(row["rule_tags"]),
        labels=loads(row["labels"]),
        title=row["title"],
        description=row["description"],
        language=row["language"],
        paused=bool(row["paused"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=_optional(row, "closed_at"),
        closed_by_agent_id=_optional(row, "closed_by_agent_id"),
        closed_by_name=_optional(row, "closed_by_name"),
    )


def to_contact(row: Row) -> Contact:
    """A contact row as a record."""
    return Contact(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        bp_user_id=row["bp_user_id"],
        visibility_tags=loads(row["visibility_tags"]),
        created_at=row["created_at"],
    )


def to_message(row: Row) -> Message:
    """A message row as a record."""
    return Message(
        id=row["id"],
        session_id=row["session_id"],
        direction=row["direction"],
        author_name=row["author_name"],
        agent_id=row["agent_id"],
        type=row["type"],
        payload=loads(row["payload"]),
        text=row["text"],
        held=bool(row["held"]),
        created_at=row["created_at"],
        delivery=_optional(row, "delivery"),
        delivery_error=_optional(row, "delivery_error"),
    )


MESSAGE_SELECT = (
    "SELECT m.*, CASE WHEN m.direction <> 'agent' THEN NULL WHEN o.delivered_at IS NOT NULL THEN 'delivered' "
    "WHEN o.gave_up_at IS NOT NULL THEN 'failed' WHEN o.id IS NOT NULL OR m.held = 1 THEN 'sending' END AS delivery, "
    "CASE WHEN m.direction = 'agent' AND o.gave_up_at IS NOT NULL THEN o.last_error END AS delivery_error "
    "FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
)
"""Messages with their delivery state, from the outbox row that carries each (one query, whatever the count)."""


async def find_keyed_message(
    db: Connection, session_id: str, agent_id: str | None, idempotency_key: str
) -> Message | None:
    """The message an agent already sent into the session under this ``Idempotency-Key``, or ``None``."""
    row = await db.fetch_one(
        MESSAGE_SELECT + " WHERE m.session_id = ? AND m.agent_id IS NOT DISTINCT FROM ? AND m.idempotency_key = ?",
        (session_id, agent_id, idempotency_key),
    )
    return to_message(row) if row else None


async def get_message(db: Connection, message_id: str) -> Message | None:
    """The message with its delivery state, or ``None``."""
    row = await db.fetch_one(MESSAGE_SELECT + " WHERE m.id = ?", (message_id,))
    return to_message(row) if row else None


def to_installation(row: Row) -> Installation:
    """An installation row as a record."""
    return Installation(**{key: row[key] for key in Installation.model_fields})


async def get_session(db: Connection, session_id: str, lock: str = "") -> Session | None:
    """The session, or ``None``. ``lock`` is the store's row-lock clause (:meth:`~.store.Store.for_update`) when the
    caller is about to change the session on what it read."""
    row = await db.fetch_one("SELECT * FROM sessions WHERE id = ?" + lock, (session_id,))
    return to_session(row) if row else None


async def get_contact(db: Connection, contact_id: str) -> Contact | None:
    """The contact, or ``None``."""
    row = await db.fetch_one("SELECT * FROM contacts WHERE id = ?", (contact_id,))
    return to_contact(row) if row else None


async def get_agent(db: Connection, agent_id: str) -> Agent | None:
    """The agent with their groups, or ``None``."""
    row = await db.fetch_one("SELECT * FROM agents WHERE id = ?", (agent_id,))
    return (await _with_groups(db, [row]))[0] if row else None


async def find_agent(db: Connection, id_or_email: str) -> Agent | None:
    """The agent by id or e-mail (case-insensitive), or ``None``."""
    row = await db.fetch_one("SELECT * FROM agents WHERE id = ? OR lower(email) = lower(?)", (id_or_email, id_or_email))
    return (await _with_groups(db, [row]))[0] if row else None


async def list_agents(db: Connection) -> list[Agent]:
    """Every agent, by name."""
    return await _with_groups(db, await db.fetch_all("SELECT * FROM agents ORDER BY name, email"))


async def _with_groups(db: Connection, rows: list[Row]) -> list[Agent]:
    groups: dict[str, list[str]] = {}
    for g in await db.fetch_all("SELECT agent_id, group_name FROM agent_groups ORDER BY group_name"):
        groups.setdefault(g["agent_id"], []).append(g["group_name"])
    return [
        Agent(
            id=r["id"],
            email=r["email"],
            name=r["name"],
            role=r["role"],
            status=r["status"],
            groups=groups.get(r["id"], []),
            disabled=bool(r["disabled"]),
        )
        for r in rows
    ]


async def get_installation(db: Connection, installation_id: str) -> Installation | None:
    """The installation, or ``None``."""
    row = await db.fetch_one("SELECT * FROM installations WHERE id = ?", (installation_id,))
    return to_installation(row) if row else None


async def session_messages(db: Connection, session_id: str) -> list[Message]:
    """The session's messages, oldest first."""
    rows = await db.fetch_all(MESSAGE_SELECT + " WHERE m.session_id = ? ORDER BY m.created_at, m.rowid", (session_id,))
    return [to_message(r) for r in rows]


async def update_session(db: Connection, session_id: str, now: float, **columns: Any) -> int:
    """Set columns of a session (names come from code, never from input) and touch ``updated_at``; return how
    many rows changed (0 when there is no such session)."""
    names = ", ".join(f"{name} = ?" for name in columns)
    return await db.execute(
        f"UPDATE sessions SET {names}, updated_at = ? WHERE id = ?",  # column names come from code, never from input
        (*columns.values(), now, session_id),
    )
