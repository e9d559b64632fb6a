"""Shared machinery of :class:`~.service.InboxService`: loading, events to Botpress, live events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from coordination import Coordinator

from .agents import AgentDirectory
from .config import InboxOptions
from .delivery import Outbox, enqueue, wake_other_workers
from .errors import NotFound
from .files import FileLinks
from .models import Agent, Contact, Note, Session, SessionState
from .realtime import Hub, LiveEvent
from .redaction import Redactor, payload_text
from .relay import LiveRelay
from .repo import find_keyed_message, get_contact, get_message, get_session, list_agents
from .routing import can_see
from .store import Connection, Store, dumps, loads, new_id

SYSTEM_AGENT_ID = "inbox-system"


@dataclass
class _Pending:
    """What one transaction leaves to do once it commits: live events to publish, the outbox to wake."""

    events: list[LiveEvent] = field(default_factory=list)
    enqueued: bool = False


# Per transaction, not per service: on PostgreSQL, transactions of one process run side by side.
_pending: ContextVar[_Pending | None] = ContextVar("inbox_pending", default=None)


class Core:
    """State and helpers the service's collaborators share (:class:`~.intake.Intake`, :class:`~.actions.Actions`,
    :class:`~.queries.Queries`): the store, options, clock, live hub, agent directory and the outbox to wake."""

    def __init__(
        self, store: Store, options: InboxOptions, clock: Callable[[], float], coordinator: Coordinator | None = None
    ) -> None:
        self.store = store
        self.options = options
        self.clock = clock
        self.coordinator = coordinator
        self.hub = Hub()
        self.relay = LiveRelay(self.hub, coordinator, self._resolve_reference)
        self.redactor = Redactor(options.redaction)
        self.agents = AgentDirectory(store, clock, options.login_hours * 3600)
        self.outbox: Outbox | None = None
        self.files = FileLinks(store)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Connection]:
        """A transaction whose live events are published, and whose events for Botpress woken, only if it commits."""
        pending = _Pending()
        token = _pending.set(pending)
        try:
            async with self.store.transaction() as db:
                yield db
        finally:
            _pending.reset(token)
        await self._flush(pending)

    async def session(self, db: Connection, session_id: str, *, lock: bool = False) -> Session:
        """The session, or :class:`NotFound`. ``lock`` (for a read-modify-write) holds its row until the
        transaction ends on PostgreSQL, so two workers changing one session take turns and see each other's write."""
        session = await get_session(db, session_id, self.store.for_update() if lock else "")
        if session is None:
            raise NotFound(f"no session {session_id}")
        return session

    async def visible_session(self, db: Connection, agent: Agent, session_id: str, *, lock: bool = False) -> Session:
        session = await self.session(db, session_id, lock=lock)
        if not can_see(agent, session, await get_contact(db, session.contact_id)):
            raise NotFound(f"no session {session_id}")
        return session

    async def audience(self, db: Connection, session: Session) -> frozenset[str]:
        contact = await get_contact(db, session.contact_id)
        return frozenset(a.id for a in await list_agents(db) if can_see(a, session, contact))

    def agent_body(self, agent: Agent | None) -> dict[str, Any]:
        if agent is None:
            return {"id": SYSTEM_AGENT_ID, "name": self.options.system_name, "email": None}
        return {"id": agent.id, "name": agent.name, "email": agent.email}

    async def emit(self, db: Connection, session: Session, event_type: str, **fields: Any) -> str:
        """Queue an event for Botpress in the current transaction; return its id."""
        event_id = new_id("evt")
        body = {"id": event_id, "type": event_type, "sessionId": session.id, "createdAt": self.clock(), **fields}
        await enqueue(
            db,
            event_id=event_id,
            installation_id=session.installation_id,
            session_id=session.id,
            body=body,
            now=self.clock(),
            message_id=fields.get("messageId"),
        )
        self.rows_due()
        return event_id

    async def store_message(
        self,
        db: Connection,
        session: Session,
        *,
        direction: str,
        message_type: str,
        payload: dict[str, Any],
        author: Agent | None = None,
        bp_message_id: str | None = None,
        held: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Redact and store a message; return its id (the existing one for a repeated ``bp_message_id``, or for a
        repeated ``idempotency_key`` of the same agent and session)."""
        clean = self.redactor.payload(payload)
        message_id = new_id("msg")
        author_name = author.name if author else (self.options.system_name if direction == "system" else None)
        inserted = await db.execute(
            "INSERT INTO messages (id, session_id, direction, author_name, agent_id, type, payload, text, "
            "bp_message_id, held, idempotency_key, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                message_id,
                session.id,
                direction,
                author_name,
                author.id if author else None,
                message_type,
                dumps(clean),
                payload_text(message_type, clean),
                bp_message_id,
                int(held),
                idempotency_key,
                self.clock(),
            ),
        )
        if inserted == 0 and idempotency_key is not None:
            existing = await find_keyed_message(db, session.id, author.id if author else None, idempotency_key)
            return existing.id if existing else message_id
        if inserted == 0:
            row = await db.fetch_one(
                "SELECT id FROM messages WHERE session_id = ? AND bp_message_id = ?", (session.id, bp_message_id)
            )
            return str(row["id"]) if row else message_id
        await self.live_message(db, session, message_id)
        return message_id

    async def live_message(self, db: Connection, session: Session, message_id: str) -> None:
        message = await get_message(db, message_id)
        if message is not None:
            self.later(LiveEvent("message", message.model_dump(mode="json"), await self.audience(db, session)))

    async def live_delivery(self, db: Connection, message_id: str) -> None:
        """Tell the agents who may see it that an agent message's delivery state changed."""
        message = await get_message(db, message_id)
        if message is None or message.delivery is None:
            return
        session = await self.session(db, message.session_id)
        data = {
            "sessionId": message.session_id,
            "messageId": message.id,
            "delivery": message.delivery,
            "deliveryError": message.delivery_error,
        }
        self.later(LiveEvent("delivery", data, await self.audience(db, session)))

    async def say(self, db: Connection, session: Session, key: str, agent: Agent | None = None) -> None:
        """Send the end user the configured text ``key`` (in the session's language), if there is one."""
        template = getattr(self.options.texts_for(session.language), key)
        if not template:
            return
        text = template.replace("{{agentName}}", agent.name if agent else self.options.system_name)
        await self.send_agent_message(db, session, None, {"text": text})

    async def send_agent_message(
        self,
        db: Connection,
        session: Session,
        agent: Agent | None,
        payload: dict[str, Any],
        *,
        outbound: bool = False,
        message_type: str = "text",
        idempotency_key: str | None = None,
    ) -> str:
        """Store an agent (or system) message and queue it for Botpress, unless the session is paused.

        Retry-safe by ``idempotency_key``: a repeat of the same agent's key in the session returns the message
        stored the first time, and queues nothing again."""
        direction = "agent" if agent else "system"
        held = session.paused and agent is not None
        if idempotency_key is not None:
            existing = await find_keyed_message(db, session.id, agent.id if agent else None, idempotency_key)
            if existing is not None:
                return existing.id
        message_id = await self.store_message(
            db,
            session,
            direction=direction,
            message_type=message_type,
            payload=payload,
            author=agent,
            held=held,
            idempotency_key=idempotency_key,
        )
        if not held:
            await self.emit_message(db, session, message_id, agent, outbound=outbound)
        return message_id

    async def emit_message(
        self, db: Connection, session: Session, message_id: str, agent: Agent | None, *, outbound: bool
    ) -> None:
        row = await db.fetch_one("SELECT type, payload FROM messages WHERE id = ?", (message_id,))
        assert row is not None
        await self.emit(
            db,
            session,
            "agent_message",
            messageId=message_id,
            agent=self.agent_body(agent),
            message={"type": row["type"], "payload": loads(row["payload"])},
            outbound=outbound,
        )

    async def close_session(
        self, db: Connection, session: Session, reason: str, *, tell_botpress: bool, by: Agent | None = None
    ) -> bool:
        """Close the session unless it is closed already; ``False`` (and nothing emitted) when it was. ``by`` is the
        agent who resolved it (recorded with the time, for "Resolved by Alice at 14:05").

        A compare-and-swap on the state, checked by its row count: of two workers closing one session at once,
        one closes it and tells Botpress, the other changes nothing."""
        closed = await db.execute(
            "UPDATE sessions SET state = ?, close_reason = ?, claim_deadline = NULL, updated_at = ?, closed_at = ?, "
            "closed_by_agent_id = ?, closed_by_name = ? WHERE id = ? AND state <> ?",
            (
                SessionState.CLOSED.value,
                reason,
                self.clock(),
                self.clock(),
                by.id if by else None,
                by.name if by else None,
                session.id,
                SessionState.CLOSED.value,
            ),
        )
        if not closed:
            return False
        if tell_botpress:
            await self.emit(db, session, "session_closed", reason=reason)
        await self.live_session(db, session.id)
        return True

    async def live_session(self, db: Connection, session_id: str, event_type: str = "session") -> None:
        session = await self.session(db, session_id)
        data = {"session": session.model_dump(mode="json")}
        self.later(LiveEvent(event_type, data, await self.audience(db, session)))

    def rows_due(self) -> None:
        """Wake the outboxes (this worker's and the others') once the current transaction commits: it queued an event,
        or made queued ones deliverable (a session linked to its conversation, a webhook URL recorded)."""
        self._current().enqueued = True

    def later(self, event: LiveEvent) -> None:
        """Publish after the transaction commits (see :meth:`_flush`)."""
        self._current().events.append(event)

    @staticmethod
    def _current() -> _Pending:
        pending = _pending.get()
        if pending is None:
            raise RuntimeError("live events and Botpress events are queued inside Core.tx() only")
        return pending

    async def _flush(self, pending: _Pending) -> None:
        """Publish the live events of the transaction that just committed, and wake the outbox (this process's
        at once, the other workers' through the coordinator)."""
        for event in pending.events:
            await self.relay.publish(event)
        if pending.enqueued:
            if self.outbox is not None:
                self.outbox.wake()
            await wake_other_workers(self.coordinator)

    async def _resolve_reference(self, kind: str, ref: str) -> dict[str, Any] | None:
        """The data of a live event another worker sent by reference (too large to publish), read from the store."""
        async with self.store.read() as db:
            if kind == "message":
                message = await get_message(db, ref)
                return message.model_dump(mode="json") if message else None
            if kind == "session":
                session = await get_session(db, ref)
                return {"session": session.model_dump(mode="json")} if session else None
            row = await db.fetch_one(
                "SELECT n.*, a.name AS agent_name FROM notes n JOIN agents a ON a.id = n.agent_id WHERE n.id = ?",
                (ref,),
            )
        return Note(**{k: row[k] for k in Note.model_fields}).model_dump(mode="json") if row else None

    async def visible_contact(self, db: Connection, agent: Agent, contact_id: str) -> None:
        """Raise :class:`NotFound` unless ``agent`` may see the contact (its groups meet its visibility tags)."""
        contact = await self.contact(db, contact_id)
        if contact.visibility_tags and not set(agent.groups).intersection(contact.visibility_tags):
            raise NotFound(f"no contact {contact_id}")

    async def contact(self, db: Connection, contact_id: str) -> Contact:
        contact = await get_contact(db, contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        return contact
