"""Reads: the queue, a session with its transcript, a contact's profile, saved views, exports."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .core import Core
from .errors import Forbidden, InvalidInput, NotFound
from .models import Agent, Contact, Note, QueueFilter, QueueItem, Session, View
from .queue import QueueReader
from .repo import get_contact, session_messages, to_contact, to_session
from .routing import can_see
from .settings_store import list_templates
from .store import dumps, loads, new_id


def _fill(text: str, contact_name: str | None) -> str:
    return text if contact_name is None else text.replace("{{contactName}}", contact_name)


class Queries:
    """Read models for the console and the admin API."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def queue(self, agent: Agent, flt: QueueFilter) -> list[QueueItem]:
        """The sessions the agent may see that match the filter (see :class:`~.queue.QueueReader`)."""
        return await QueueReader(self.core).items(agent, flt)

    async def detail(self, agent: Agent, session_id: str) -> dict[str, Any]:
        """A session, its contact, its messages (transcript first, then live) and the contact's notes."""
        async with self.core.store.read() as db:
            session = await self.core.visible_session(db, agent, session_id)
            contact = await self.core.contact(db, session.contact_id)
            messages = await session_messages(db, session_id)
        return {
            "session": session.model_dump(mode="json"),
            "contact": contact.model_dump(mode="json"),
            "messages": [m.model_dump(mode="json") for m in messages],
            "notes": [n.model_dump(mode="json") for n in await self.notes(agent, contact.id)],
        }

    async def contact_profile(self, agent: Agent, contact_id: str) -> dict[str, Any]:
        """A contact, their notes and the sessions the agent may see."""
        async with self.core.store.read() as db:
            await self.core.visible_contact(db, agent, contact_id)
            contact = await self.core.contact(db, contact_id)
            rows = await db.fetch_all(
                "SELECT * FROM sessions WHERE contact_id = ? ORDER BY created_at DESC", (contact_id,)
            )
        sessions = [s for s in map(to_session, rows) if can_see(agent, s, contact)]
        return {
            "contact": contact.model_dump(mode="json"),
            "sessions": [s.model_dump(mode="json") for s in sessions],
            "notes": [n.model_dump(mode="json") for n in await self.notes(agent, contact_id)],
        }

    async def contacts(self, agent: Agent, search: str | None = None) -> list[Contact]:
        """Contacts the agent may see, matching ``search`` in name, e-mail or phone."""
        rows = await self.core.store.fetch_all("SELECT * FROM contacts ORDER BY name, email")
        groups, needle = set(agent.groups), (search or "").lower()
        found = [to_contact(r) for r in rows]
        return [
            c
            for c in found
            if (not c.visibility_tags or groups.intersection(c.visibility_tags))
            and needle in " ".join(filter(None, [c.name, c.email, c.phone, c.bp_user_id])).lower()
        ]

    async def notes(self, agent: Agent, contact_id: str) -> list[Note]:
        """The contact's notes, oldest first."""
        async with self.core.store.read() as db:
            await self.core.visible_contact(db, agent, contact_id)
            rows = await db.fetch_all(
                "SELECT n.*, a.name AS agent_name FROM notes n JOIN agents a ON a.id = n.agent_id "
                "WHERE n.contact_id = ? ORDER BY n.created_at, n.rowid",
                (contact_id,),
            )
        return [Note(**{k: r[k] for k in Note.model_fields}) for r in rows]

    async def templates(self, agent: Agent, contact_name: str | None = None) -> list[dict[str, str]]:
        """The templates (kept in the database, see :mod:`.settings_store`), with ``{{agentName}}`` filled in, and
        ``{{contactName}}`` when given (the console fills it per conversation)."""
        async with self.core.store.read() as db:
            stored = await list_templates(db)
        return [
            {
                "shortcut": t.shortcut,
                "title": t.title or t.shortcut,
                "text": _fill(t.text.replace("{{agentName}}", agent.name), contact_name),
            }
            for t in stored
        ]

    async def views(self, agent: Agent) -> list[View]:
        """The configured views, the shared views admins saved, then the agent's own saved views."""
        shared = [
            View(id=f"cfg_{i}", name=v.name, filters=v.model_dump(exclude={"name"}, exclude_none=True), shared=True)
            for i, v in enumerate(self.core.options.views)
        ]
        rows = await self.core.store.fetch_all(
            "SELECT * FROM views WHERE shared = 1 OR agent_id = ? ORDER BY shared DESC, name", (agent.id,)
        )
        return shared + [
            View(id=r["id"], name=r["name"], filters=loads(r["filters"]), shared=bool(r["shared"])) for r in rows
        ]

    async def save_view(self, agent: Agent, name: str, filters: dict[str, str], *, shared: bool = False) -> View:
        """Save a queue filter under a name, for this agent, or for every agent (``shared``, admins only).

        Retry-safe by a check before the insert: a repeat (same agent, name, filters and sharing) answers the view
        the first one saved."""
        if shared and not agent.is_admin:
            raise Forbidden("admins only")
        if not name.strip():
            raise InvalidInput("name", "must not be empty")
        allowed = {"state", "tag", "label", "assigned", "search", "sort"}
        clean = {k: str(v) for k, v in sorted(filters.items()) if k in allowed and v}
        try:
            QueueFilter.model_validate(clean)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(f"filters.{'.'.join(map(str, first['loc']))}", first["msg"]) from None
        view_id = new_id("vw")
        async with self.core.tx() as db:
            same = await db.fetch_one(
                "SELECT id FROM views WHERE agent_id = ? AND name = ? AND filters = ? AND shared = ?",
                (agent.id, name.strip(), dumps(clean), int(shared)),
            )
            if same is not None:
                return View(id=same["id"], name=name.strip(), filters=clean, shared=shared)
            await db.execute(
                "INSERT INTO views (id, agent_id, name, filters, shared, created_at) VALUES (?,?,?,?,?,?)",
                (view_id, agent.id, name.strip(), dumps(clean), int(shared), self.core.clock()),
            )
        return View(id=view_id, name=name.strip(), filters=clean, shared=shared)

    async def delete_view(self, agent: Agent, view_id: str) -> None:
        """Delete one of the agent's saved views, or (admins only) a shared view. Retry-safe: deleting a deleted
        view changes nothing."""
        async with self.core.tx() as db:
            row = await db.fetch_one("SELECT shared FROM views WHERE id = ?", (view_id,))
            if row is not None and row["shared"] and not agent.is_admin:
                raise Forbidden("admins only")
            await db.execute("DELETE FROM views WHERE id = ? AND (agent_id = ? OR shared = 1)", (view_id, agent.id))

    async def all_sessions(self, state: str | None = None, limit: int = 500) -> list[Session]:
        """Every session (admin API), newest first."""
        sql, params = "SELECT * FROM sessions", []
        if state:
            sql, params = sql + " WHERE state = ?", [state]
        rows = await self.core.store.fetch_all(sql + " ORDER BY created_at DESC LIMIT ?", [*params, limit])
        return [to_session(r) for r in rows]

    async def export(self, session_id: str) -> dict[str, Any]:
        """A session's full record: contact, messages (as stored, i.e. redacted) and a plain-text transcript."""
        async with self.core.store.read() as db:
            session = await self.core.session(db, session_id)
            contact = await get_contact(db, session.contact_id)
            messages = await session_messages(db, session_id)
        if contact is None:
            raise NotFound(f"no contact for session {session_id}")
        lines = [f"[{m.direction}] {m.author_name or m.payload.get('source', m.direction)}: {m.text}" for m in messages]
        return {
            "session": session.model_dump(mode="json"),
            "contact": contact.model_dump(mode="json"),
            "messages": [m.model_dump(mode="json") for m in messages],
            "text": "\n".join(lines),
        }
