"""What agents do in the console: claim, reject, reply, transfer, resolve, label, note, reach out."""

from __future__ import annotations

from .core import Core
from .delivery import requeue
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .files import StoredFile, Upload, media_message, save_file
from .intake import Intake
from .models import Agent, Message, Note, Outcome, Session, SessionState
from .realtime import LiveEvent
from .repo import (
    find_agent,
    find_keyed_message,
    get_agent,
    get_contact,
    get_message,
    list_agents,
    to_session,
    update_session,
)
from .routing import can_see, claim_refusal
from .settings_store import list_labels
from .signals import agent_changed
from .store import Connection, dumps, new_id

MAX_TEXT = 20000


def _text(value: str, field: str = "text") -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(field, f"must be at most {MAX_TEXT} characters")
    return value


class Actions:
    """Agent actions. Each runs in one transaction, with its events to Botpress queued in it."""

    def __init__(self, core: Core, intake: Intake) -> None:
        self.core = core
        self.intake = intake

    async def claim(self, agent: Agent, session_id: str) -> Session:
        """Take a waiting session: it becomes ASSIGNED and Botpress is told (``hitlAssigned``).

        Safe across workers: the session's row is locked while it is checked (PostgreSQL), and the assignment is a
        compare-and-swap from the state and agent that were read, checked by its row count; of two agents claiming
        at once, one gets the session and the other a :class:`Conflict`."""
        async with self.core.tx() as db:
            session = await self.core.visible_session(db, agent, session_id, lock=True)
            await self._refuse_if_taken(db, agent, session)
            refusal = claim_refusal(agent, session, await get_contact(db, session.contact_id))
            if refusal:
                raise Conflict(refusal)
            await self._assign(db, session, agent, "assigned")
            return await self.core.session(db, session_id)

    async def _refuse_if_taken(self, db: Connection, agent: Agent, session: Session) -> None:
        """The loser of a claim race learns who won, in words the console shows as they are."""
        winner_id = session.assigned_agent_id
        if session.state is SessionState.ASSIGNED and winner_id is not None and winner_id != agent.id:
            winner = await get_agent(db, winner_id)
            raise Conflict(f"{winner.name if winner else 'Another agent'} took this conversation")

    async def _assign(self, db: Connection, session: Session, agent: Agent, text_key: str) -> None:
        swapped = await db.execute(
            "UPDATE sessions SET state = ?, assigned_agent_id = ?, claim_deadline = NULL, updated_at = ? "
            "WHERE id = ? AND state = ? AND assigned_agent_id IS NOT DISTINCT FROM ?",
            (
                SessionState.ASSIGNED.value,
                agent.id,
                self.core.clock(),
                session.id,
                session.state.value,
                session.assigned_agent_id,
            ),
        )
        if not swapped:
            raise Conflict("the session changed meanwhile; reload it")
        if text_key == "transferred":
            # Said before the assignment: the HITL plugin says its own "joined" line when Botpress learns of it, and
            # the end user must read "You are being transferred to Bob." first.
            await self.core.say(db, session, text_key, agent)
        await self.core.emit(db, session, "agent_assigned", agent=self.core.agent_body(agent))
        if text_key != "transferred":
            await self.core.say(db, session, text_key, agent)
        await self.core.live_session(db, session.id)
        self.core.later(LiveEvent("offer_withdrawn", {"sessionId": session.id}, await self.core.audience(db, session)))

    async def reject(self, agent: Agent, session_id: str) -> Session:
        """Decline an offer. A targeted session, or one every eligible agent declined, ends as REJECTED."""
        async with self.core.tx() as db:
            session = await self.core.visible_session(db, agent, session_id, lock=True)
            if session.state is not SessionState.NEEDS_ACTION:
                raise Conflict(f"the session is {session.state.value}")
            await db.execute(
                "INSERT INTO session_rejections (session_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (session_id, agent.id),
            )
            self.core.later(LiveEvent("offer_withdrawn", {"sessionId": session_id}, frozenset({agent.id})))
            await self.intake.route(db, session_id)
            return await self.core.session(db, session_id)

    async def expire_claims(self) -> list[str]:
        """End every waiting session whose claim window has passed (outcome TIMEOUT); return their ids.

        The candidates are locked and skipped if another transaction holds them (PostgreSQL): a session being
        claimed right now is left to that claim, and looked at again on the next pass if it is still waiting."""
        async with self.core.tx() as db:
            rows = await db.fetch_all(
                "SELECT id FROM sessions WHERE state = ? AND claim_deadline <= ?"
                + self.core.store.for_update(skip_locked=True),
                (SessionState.NEEDS_ACTION.value, self.core.clock()),
            )
            expired = [str(row["id"]) for row in rows]
            for session_id in expired:
                await self.intake.end_with_outcome(db, session_id, Outcome.TIMEOUT.value)
        return expired

    async def reply(self, agent: Agent, session_id: str, text: str, idempotency_key: str | None = None) -> Message:
        """Write to the end user. The session must be assigned to this agent (admins may always write).

        Retry-safe by ``idempotency_key`` (the console's ``Idempotency-Key``): a repeat whose first answer was lost
        answers the message stored the first time and queues nothing again."""
        text = _text(text)
        async with self.core.tx() as db:
            session = await self._owned(db, agent, session_id)
            message_id = await self.core.send_agent_message(
                db, session, agent, {"text": text}, idempotency_key=idempotency_key
            )
            return await self._message(db, message_id)

    async def attach(
        self, agent: Agent, session_id: str, upload: Upload, base_url: str, idempotency_key: str | None = None
    ) -> Message:
        """Store a file and send it as an agent message of type ``image`` or ``file`` (its signed link), under the
        rules of :meth:`reply`. Retry-safe by ``idempotency_key``: a repeat answers the first message and stores
        and sends nothing again; without a key the file and its message are one transaction."""
        await self.core.files.prime()  # before the transaction: on SQLite a second one would wait for it forever
        async with self.core.tx() as db:
            session = await self._owned(db, agent, session_id)
            existing = idempotency_key and await find_keyed_message(db, session_id, agent.id, idempotency_key)
            if existing:
                return existing
            stored = StoredFile(new_id("fil"), upload.filename, upload.content_type, upload.data)
            await save_file(db, stored, session_id=session_id, agent_id=agent.id, now=self.core.clock())
            url = await self.core.files.url(base_url, stored.key, self.core.clock())
            message_type, payload = media_message(stored, url)
            message_id = await self.core.send_agent_message(
                db, session, agent, payload, message_type=message_type, idempotency_key=idempotency_key
            )
            return await self._message(db, message_id)

    async def retry(self, agent: Agent, session_id: str, message_id: str) -> Message:
        """Queue a ``failed`` agent message again (its delivery is back to ``sending``).

        Retry-safe: only a message whose outbox row gave up is requeued (a compare-and-swap on ``gave_up_at``); a
        repeat finds it ``sending`` and answers 409, and the row keeps its event id, so Botpress applies it once."""
        async with self.core.tx() as db:
            session = await self.core.visible_session(db, agent, session_id, lock=True)
            message = await get_message(db, message_id)
            if message is None or message.session_id != session.id:
                raise NotFound(f"no message {message_id}")
            if message.delivery != "failed" or not await requeue(db, message_id, self.core.clock()):
                raise Conflict(f"the message is {message.delivery or 'not an agent reply'}, not failed")
            self.core.rows_due()
            await self.core.live_delivery(db, message_id)
            return await self._message(db, message_id)

    async def _message(self, db: Connection, message_id: str) -> Message:
        message = await get_message(db, message_id)
        if message is None:
            raise NotFound(f"no message {message_id}")
        return message

    async def _owned(self, db: Connection, agent: Agent, session_id: str) -> Session:
        session = await self.core.visible_session(db, agent, session_id, lock=True)
        if session.state is not SessionState.ASSIGNED:
            raise Conflict(f"the session is {session.state.value}; claim it first")
        if session.assigned_agent_id != agent.id and not agent.is_admin:
            raise Forbidden("the session is assigned to another agent")
        return session

    async def transfer(self, agent: Agent, session_id: str, to_agent: str) -> Session:
        """Hand an assigned session to another agent who may see it; the end user is told."""
        async with self.core.tx() as db:
            session = await self._owned(db, agent, session_id)
            target = await find_agent(db, to_agent)
            contact = await get_contact(db, session.contact_id)
            if target is None or target.disabled or not can_see(target, session, contact):
                raise InvalidInput("agent", "no such agent may see this session")
            if target.id == session.assigned_agent_id:
                raise Conflict("the session is already assigned to that agent")
            await self._assign(db, session, target, "transferred")
            contact = await self.core.contact(db, session.contact_id)
            data = {
                "sessionId": session_id,
                "from": {"id": agent.id, "name": agent.name},
                "to": {"id": target.id, "name": target.name},
                "contactName": contact.name,
            }
            self.core.later(LiveEvent("transfer", data, frozenset({target.id})))
            return await self.core.session(db, session_id)

    async def resolve(self, agent: Agent, session_id: str) -> Session:
        """Close the session as resolved; Botpress is told (``hitlStopped``) once, whoever else closes it at once
        (the close is a compare-and-swap on the state: see :meth:`~.core.Core.close_session`)."""
        async with self.core.tx() as db:
            session = await self.core.visible_session(db, agent, session_id, lock=True)
            if session.state is SessionState.CLOSED:
                return session
            if session.assigned_agent_id not in (None, agent.id) and not agent.is_admin:
                raise Forbidden("the session is assigned to another agent")
            await self.core.close_session(db, session, "resolved", tell_botpress=True, by=agent)
            return await self.core.session(db, session_id)

    async def set_labels(self, agent: Agent, session_id: str, labels: list[str]) -> Session:
        """Replace the session's labels: each from the admins' list, or one the session has already (an admin may
        have removed it from the list since; toggling another label keeps it)."""
        async with self.core.store.read() as db:
            session = await self.core.visible_session(db, agent, session_id)
            unknown = sorted(set(labels) - set(await list_labels(db)) - set(session.labels))
        if unknown:
            raise InvalidInput("labels", f"not configured: {', '.join(unknown)}")
        return await self._set_list(agent, session_id, labels=sorted(set(labels)))

    async def set_rule_tags(self, agent: Agent, session_id: str, tags: list[str]) -> Session:
        """Replace the session's rule tags (admins only: tags decide who sees it)."""
        if not agent.is_admin:
            raise Forbidden("only admins change rule tags")
        return await self._set_list(agent, session_id, rule_tags=sorted({t.strip() for t in tags if t.strip()}))

    async def _set_list(self, agent: Agent, session_id: str, **columns: list[str]) -> Session:
        async with self.core.tx() as db:
            await self.core.visible_session(db, agent, session_id, lock=True)
            await update_session(db, session_id, self.core.clock(), **{k: dumps(v) for k, v in columns.items()})
            await self.core.live_session(db, session_id)
            return await self.core.session(db, session_id)

    async def add_note(self, agent: Agent, contact_id: str, text: str) -> Note:
        """Write a note on a contact; every agent who may see the contact sees it, in every session."""
        text = _text(text)
        note_id = new_id("not")
        async with self.core.tx() as db:
            await self.core.visible_contact(db, agent, contact_id)
            await db.execute(
                "INSERT INTO notes (id, contact_id, agent_id, text, created_at) VALUES (?,?,?,?,?)",
                (note_id, contact_id, agent.id, self.core.redactor.text(text), self.core.clock()),
            )
            tags = set((await self.core.contact(db, contact_id)).visibility_tags)
            audience = frozenset(a.id for a in await list_agents(db) if not tags or tags.intersection(a.groups))
        note = Note(
            id=note_id,
            contact_id=contact_id,
            agent_id=agent.id,
            agent_name=agent.name,
            text=self.core.redactor.text(text) or "",
            created_at=self.core.clock(),
        )
        await self.core.relay.publish(LiveEvent("note", note.model_dump(mode="json"), audience))
        return note

    async def set_contact_tags(self, agent: Agent, contact_id: str, tags: list[str]) -> None:
        """Replace a contact's visibility tags (admins who may see the contact: visibility binds admins too)."""
        if not agent.is_admin:
            raise Forbidden("only admins change contact visibility")
        async with self.core.tx() as db:
            await self.core.visible_contact(db, agent, contact_id)
            await db.execute(
                "UPDATE contacts SET visibility_tags = ? WHERE id = ?",
                (dumps(sorted({t.strip() for t in tags if t.strip()})), contact_id),
            )

    async def outbound(self, agent: Agent, contact_id: str, text: str) -> Message:
        """Start a conversation: the message goes to the contact's last Botpress conversation the agent may see."""
        text = _text(text)
        async with self.core.tx() as db:
            session = await self._last_visible_conversation(db, agent, contact_id)
            message_id = await self.core.send_agent_message(db, session, agent, {"text": text}, outbound=True)
            return await self._message(db, message_id)

    async def _last_visible_conversation(self, db: Connection, agent: Agent, contact_id: str) -> Session:
        """The contact's newest session linked to Botpress that the agent may see: its rule tags decide, as for
        every other write, so an agent never writes into a session hidden from them."""
        await self.core.visible_contact(db, agent, contact_id)
        contact = await self.core.contact(db, contact_id)
        rows = await db.fetch_all(
            "SELECT * FROM sessions WHERE contact_id = ? AND bp_conversation_id IS NOT NULL ORDER BY created_at DESC",
            (contact_id,),
        )
        session = next((s for s in map(to_session, rows) if can_see(agent, s, contact)), None)
        if session is None:
            raise Conflict("the contact has no conversation in Botpress you may write to")
        return session

    async def set_status(self, agent: Agent, status: str) -> Agent:
        """Change the agent's own status; everyone sees it live."""
        updated = await self.core.agents.set_status(agent.id, status)
        await agent_changed(self.core, updated)
        return updated

    async def set_paused(self, session_id: str, paused: bool) -> Session:
        """Pause (hold agent messages) or unpause (release what was held, in order) a session."""
        async with self.core.tx() as db:
            session = await self.core.session(db, session_id, lock=True)
            await update_session(db, session_id, self.core.clock(), paused=int(paused))
            if not paused and session.state is not SessionState.CLOSED:
                await self._release_held(db, await self.core.session(db, session_id))
            await self.core.live_session(db, session_id)
            return await self.core.session(db, session_id)

    async def _release_held(self, db: Connection, session: Session) -> None:
        rows = await db.fetch_all(
            "SELECT id, agent_id FROM messages WHERE session_id = ? AND held = 1 ORDER BY created_at, rowid",
            (session.id,),
        )
        for row in rows:
            # held = 1 in the WHERE: a message another transaction released already is not sent twice.
            if await db.execute("UPDATE messages SET held = 0 WHERE id = ? AND held = 1", (row["id"],)):
                agent = await get_agent(db, row["agent_id"])
                await self.core.emit_message(db, session, row["id"], agent, outbound=False)
