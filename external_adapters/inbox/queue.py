"""The queue agents triage: per session its unread count, wait, last activity and state in words; read marks.

The whole queue is one statement over sessions (its last message, unread count and wait as correlated subqueries on
``messages_session``), plus one for contacts and one for agent names: the cost does not grow by a query per
session (``tests/external_adapters/inbox/test_queue.py`` counts them; ``docs/benchmarks.md`` has the times).
"""

from __future__ import annotations

from typing import Any

from .core import Core
from .models import Agent, Contact, Outcome, QueueFilter, QueueItem, Session, SessionState
from .realtime import LiveEvent
from .repo import list_agents, to_contact, to_session
from .routing import can_see

OUTCOME_WORDS = {
    Outcome.NO_AGENTS: "No agent online",
    Outcome.NOT_AVAILABLE: "No agent available",
    Outcome.REJECTED: "Rejected by every agent",
    Outcome.TIMEOUT: "Nobody claimed it in time",
}

_LAST = "(SELECT {col} FROM messages m WHERE m.session_id = s.id ORDER BY m.created_at DESC, m.rowid DESC LIMIT 1)"
_LAST_AGENT = "(SELECT MAX(a.created_at) FROM messages a WHERE a.session_id = s.id AND a.direction = 'agent')"
_QUEUE_SQL = (
    "SELECT s.*, "
    f"{_LAST.format(col='text')} AS last_text, "
    f"{_LAST.format(col='direction')} AS last_direction, "
    f"{_LAST.format(col='created_at')} AS last_at, "
    "(SELECT COUNT(*) FROM messages u WHERE u.session_id = s.id AND u.direction = 'user' "
    " AND u.created_at > COALESCE(r.read_upto, -1)) AS unread, "
    "(SELECT MIN(w.created_at) FROM messages w WHERE w.session_id = s.id AND w.direction = 'user' "
    f" AND w.created_at > COALESCE({_LAST_AGENT}, -1)) AS answer_wait, "
    "{text_hit} AS text_hit "
    "FROM sessions s LEFT JOIN read_marks r ON r.session_id = s.id AND r.agent_id = ?"
)
# Search in what was said (not in system lines): one EXISTS per session, on the same index.
_TEXT_HIT = (
    "EXISTS (SELECT 1 FROM messages t WHERE t.session_id = s.id AND t.direction IN ('transcript', 'user', 'agent') "
    "AND LOWER(t.text) LIKE ? ESCAPE '\\')"
)


def state_text(session: Session, assigned_name: str | None, resolved_by: str | None = None) -> str:
    """The session's state in the words the console shows ("Assigned to Alice", "No agent available", ...).

    ``resolved_by`` is the agent who resolved it; without it, the agent it was assigned to (who resolved it
    unless an admin did)."""
    if session.state is SessionState.NEEDS_ACTION:
        return "Waiting"
    if session.state is SessionState.ASSIGNED:
        return f"Assigned to {assigned_name}" if assigned_name else "Assigned"
    if session.close_reason == "resolved":
        who = resolved_by or assigned_name
        return f"Resolved by {who}" if who else "Resolved"
    if session.close_reason == "stopped by bot":
        return "Stopped by the bot"
    outcome = outcome_of(session)
    return OUTCOME_WORDS[outcome] if outcome else "Closed"


def outcome_of(session: Session) -> Outcome | None:
    """The outcome code a closed session ended with, if nobody took it."""
    reason = session.close_reason or ""
    return Outcome(reason) if session.state is SessionState.CLOSED and reason in Outcome.__members__ else None


def waiting_since(session: Session, answer_wait: float | None) -> float | None:
    """Since when the contact waits: the session's start while nobody has it; once assigned, their oldest message
    after the agent's last one; never once closed."""
    if session.state is SessionState.NEEDS_ACTION:
        return session.created_at
    return answer_wait if session.state is SessionState.ASSIGNED else None


def _like(needle: str) -> str:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(item: Session, contact: Contact, agent: Agent, flt: QueueFilter, text_hit: bool) -> bool:
    checks = [
        flt.state is None or item.state is flt.state,
        flt.tag is None or flt.tag in item.rule_tags,
        flt.label is None or flt.label in item.labels,
        flt.assigned != "me" or item.assigned_agent_id == agent.id,
        flt.assigned != "unassigned" or item.assigned_agent_id is None,
    ]
    if flt.search:
        haystack = " ".join(filter(None, [item.title, contact.name, contact.email, contact.phone])).lower()
        checks.append(text_hit or flt.search.lower() in haystack)
    return all(checks)


def _sort_key(item: QueueItem, sort: str) -> tuple[Any, ...]:
    if sort == "waiting":  # oldest wait first, the ones nobody waits on last (newest activity first among them)
        return (item.waiting_since is None, item.waiting_since or 0.0, -item.last_activity)
    return (-item.last_activity,)


class QueueReader:
    """The queue, its counts and the agents' read marks."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def items(self, agent: Agent, flt: QueueFilter) -> list[QueueItem]:
        """Every session the agent may see matching the filter, sorted by ``flt.sort``, at most ``flt.limit``."""
        return (await self._all(agent, flt))[: flt.limit]

    async def _all(self, agent: Agent, flt: QueueFilter) -> list[QueueItem]:
        rows, contacts, names = await self._load(agent, flt.search)
        items = [
            self._item(row, contacts[row["contact_id"]], names)
            for row in rows
            if can_see(agent, session := to_session(row), contacts[row["contact_id"]])
            and _matches(session, contacts[row["contact_id"]], agent, flt, bool(row["text_hit"]))
        ]
        return sorted(items, key=lambda item: _sort_key(item, flt.sort))

    async def counts(self, agent: Agent) -> dict[str, int]:
        """``waiting``: sessions the agent may see that wait for an agent; ``unread``: unread over the open ones
        (every session, not the queue's first page)."""
        items = await self._all(agent, QueueFilter())
        waiting = sum(1 for i in items if i.session.state is SessionState.NEEDS_ACTION)
        unread = sum(i.unread for i in items if i.session.state is not SessionState.CLOSED)
        return {"waiting": waiting, "unread": unread}

    async def mark_read(self, agent: Agent, session_id: str) -> dict[str, int]:
        """Mark every message of the session read for the agent, and tell the agent's other tabs (``read``).

        Retry-safe: the mark is the newest message's time, written as an upsert that only moves it forward, so a
        repeat (an answer lost after the commit) or a late, older request leaves the mark where it is."""
        async with self.core.tx() as db:
            await self.core.visible_session(db, agent, session_id)
            newest = await db.fetch_one(
                "SELECT MAX(created_at) AS upto FROM messages WHERE session_id = ?", (session_id,)
            )
            upto = newest["upto"] if newest and newest["upto"] is not None else 0.0
            await db.execute(
                "INSERT INTO read_marks (agent_id, session_id, read_upto) VALUES (?, ?, ?) "
                "ON CONFLICT (agent_id, session_id) DO UPDATE SET read_upto = CASE "
                "WHEN excluded.read_upto > read_marks.read_upto THEN excluded.read_upto ELSE read_marks.read_upto END",
                (agent.id, session_id, upto),
            )
            data = {"sessionId": session_id, "unread": 0}
            self.core.later(LiveEvent("read", data, frozenset({agent.id})))
        return {"unread": 0}

    async def _load(self, agent: Agent, search: str | None) -> tuple[list[Any], dict[str, Contact], dict[str, str]]:
        sql = _QUEUE_SQL.format(text_hit=_TEXT_HIT if search else "0")
        params: tuple[Any, ...] = (_like(search), agent.id) if search else (agent.id,)
        async with self.core.store.read() as db:
            rows = await db.fetch_all(sql, params)
            contacts = {r["id"]: to_contact(r) for r in await db.fetch_all("SELECT * FROM contacts")}
            names = {a.id: a.name for a in await list_agents(db)}
        return rows, contacts, names

    @staticmethod
    def _item(row: Any, contact: Contact, names: dict[str, str]) -> QueueItem:
        session = to_session(row)
        assigned_name = names.get(session.assigned_agent_id or "")
        return QueueItem(
            session=session,
            contact=contact,
            assigned_agent_name=assigned_name,
            unclaimed=session.assigned_agent_id is None and session.state is SessionState.NEEDS_ACTION,
            last_text=row["last_text"],
            unread=int(row["unread"] or 0),
            waiting_since=waiting_since(session, row["answer_wait"]),
            last_activity=row["last_at"] if row["last_at"] is not None else session.updated_at,
            last_direction=row["last_direction"],
            state_text=state_text(session, assigned_name, session.closed_by_name),
            outcome=outcome_of(session),
        )
