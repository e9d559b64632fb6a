"""What Botpress asks of the inbox: installations, contacts, sessions and end-user messages."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import InboxSession
from .core import Core
from .errors import Conflict, InvalidInput
from .models import Installation, Outcome, SessionState
from .realtime import LiveEvent
from .repo import find_agent, get_installation, get_session, list_agents, to_installation
from .routing import plan_route
from .signing import check
from .store import Connection, dumps, new_id


@dataclass(frozen=True)
class ContactInfo:
    """What is known of an end user; any identifier may find an existing contact."""

    bp_user_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def identifiers(self) -> list[tuple[str, str]]:
        """(kind, value) pairs, most specific first."""
        pairs = [("bp_user_id", self.bp_user_id), ("email", _lower(self.email)), ("phone", self.phone)]
        return [(kind, value) for kind, value in pairs if value]


@dataclass(frozen=True)
class NewSession:
    """A handoff request."""

    installation_id: str
    contact_id: str
    idempotency_key: str
    options: InboxSession
    title: str | None = None
    description: str | None = None
    language: str = "en"
    extra_rule_tags: Sequence[str] = ()
    transcript: Sequence[tuple[str, str, dict[str, Any]]] = field(default_factory=tuple)
    """(direction, type, payload) of each history message; direction is ``user`` or ``bot``."""


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def installation_key(bot_id: str, integration_id: str) -> str:
    """The id of an installation in the inbox."""
    return f"{bot_id}:{integration_id}"


class Intake:
    """The adapter-facing half of the service, and the routing agents' actions reuse."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def subscribe(self, bot_id: str, integration_id: str, webhook_id: str, webhook_url: str) -> Installation:
        """Record the installation's webhook URL; its signing secret is made once and kept."""
        key = installation_key(bot_id, integration_id)
        async with self.core.tx() as db:
            await db.execute(
                "INSERT INTO installations (id, bot_id, integration_id, webhook_id, webhook_url, secret, created_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET webhook_url = excluded.webhook_url, "
                "webhook_id = excluded.webhook_id",
                (key, bot_id, integration_id, webhook_id, webhook_url, secrets.token_hex(32), self.core.clock()),
            )
            self.core.rows_due()
            installation = await get_installation(db, key)
        assert installation is not None
        return installation

    async def unsubscribe(self, bot_id: str, integration_id: str) -> None:
        """Forget the webhook URL (events wait in the outbox until the next subscribe)."""
        async with self.core.tx() as db:
            await db.execute(
                "UPDATE installations SET webhook_url = NULL WHERE id = ?", (installation_key(bot_id, integration_id),)
            )

    async def installation(self, bot_id: str, integration_id: str) -> Installation | None:
        """The installation, or ``None`` when it never subscribed."""
        row = await self.core.store.fetch_one(
            "SELECT * FROM installations WHERE id = ?", (installation_key(bot_id, integration_id),)
        )
        return to_installation(row) if row else None

    async def verify(self, bot_id: str, integration_id: str, headers: dict[str, str], body: bytes) -> str | None:
        """``None`` when the webhook was signed by this installation's secret recently, else why not."""
        installation = await self.installation(bot_id, integration_id)
        if installation is None:
            return "unknown installation"
        return check(
            installation.secret, headers, body, self.core.clock(), self.core.options.signature_tolerance_seconds
        )

    async def upsert_contact(self, info: ContactInfo) -> str:
        """Find the contact by any identifier, creating it when missing; fill in what was unknown.

        Retry-safe: the identifiers are unique, so a repeated (or concurrent) call finds the contact the first made;
        of two workers creating one contact at once, the one whose identifier lost drops its new row."""
        async with self.core.tx() as db:
            found = await self._find_contact_id(db, info)
            contact_id = found or new_id("con")
            await self._write_contact(db, contact_id, info)
            if found is None:
                contact_id = await self._settle_new_contact(db, contact_id, info)
        return contact_id

    async def _settle_new_contact(self, db: Connection, contact_id: str, info: ContactInfo) -> str:
        """The contact that owns the most specific identifier: ours, or the one another worker just created."""
        winner = await self._find_contact_id(db, info)
        if winner is None or winner == contact_id:
            return contact_id
        await db.execute("DELETE FROM contact_identifiers WHERE contact_id = ?", (contact_id,))
        await db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
        await self._write_contact(db, winner, info)
        return winner

    async def _write_contact(self, db: Connection, contact_id: str, info: ContactInfo) -> None:
        await db.execute(
            "INSERT INTO contacts (id, name, email, phone, bp_user_id, created_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET name = coalesce(excluded.name, contacts.name), "
            "email = coalesce(excluded.email, contacts.email), phone = coalesce(excluded.phone, contacts.phone), "
            "bp_user_id = coalesce(excluded.bp_user_id, contacts.bp_user_id)",
            (contact_id, info.name, _lower(info.email), info.phone, info.bp_user_id, self.core.clock()),
        )
        for kind, value in info.identifiers():
            await db.execute(
                "INSERT INTO contact_identifiers (kind, value, contact_id) VALUES (?,?,?) ON CONFLICT DO NOTHING",
                (kind, value, contact_id),
            )

    async def _find_contact_id(self, db: Connection, info: ContactInfo) -> str | None:
        for kind, value in info.identifiers():
            row = await db.fetch_one(
                "SELECT contact_id FROM contact_identifiers WHERE kind = ? AND value = ?", (kind, value)
            )
            if row:
                return str(row["contact_id"])
        return None

    async def open_session(self, request: NewSession) -> str:
        """Open a session (at most one per installation and idempotency key), store its transcript, route it.

        Retry-safe by the idempotency key, which is unique per installation: a repeated call, or one racing it on
        another worker, inserts nothing (``ON CONFLICT DO NOTHING``) and returns the first call's session."""
        async with self.core.tx() as db:
            existing = await self._session_for_key(db, request)
            if existing:
                return existing
            session_id, target_found = await self._insert_session(db, request)
            if session_id is None:  # another worker opened it since the check above, and has committed
                return await self._opened_elsewhere(db, request)
            await self._store_transcript(db, session_id, request.transcript)
            await self.route(db, session_id, target_found=target_found)
        return session_id

    async def _opened_elsewhere(self, db: Connection, request: NewSession) -> str:
        session_id = await self._session_for_key(db, request)
        if session_id is None:  # it committed, so a new statement sees it; anything else is a retryable conflict
            raise Conflict("the session is being opened by another request")
        return session_id

    async def _session_for_key(self, db: Connection, request: NewSession) -> str | None:
        row = await db.fetch_one(
            "SELECT id FROM sessions WHERE installation_id = ? AND idempotency_key = ?",
            (request.installation_id, request.idempotency_key),
        )
        return str(row["id"]) if row else None

    async def _insert_session(self, db: Connection, request: NewSession) -> tuple[str | None, bool]:
        await self.core.contact(db, request.contact_id)
        options, target_id = request.options, None
        if options.target_agent:
            target = await find_agent(db, options.target_agent)
            target_id = target.id if target else None
        tags = sorted({*options.rule_tags, *request.extra_rule_tags})
        session_id, now = new_id("ses"), self.core.clock()
        inserted = await db.execute(
            "INSERT INTO sessions (id, installation_id, contact_id, idempotency_key, state, target_agent_id, "
            "claim_statuses, claim_deadline, rule_tags, title, description, language, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (installation_id, idempotency_key) DO NOTHING",
            (
                session_id,
                request.installation_id,
                request.contact_id,
                request.idempotency_key,
                SessionState.NEEDS_ACTION.value,
                target_id,
                dumps(options.claim_statuses),
                now + options.claim_timeout_seconds,
                dumps(tags),
                self.core.redactor.text(request.title),
                self.core.redactor.text(request.description),
                options.language or request.language,
                now,
                now,
            ),
        )
        return (session_id if inserted else None), not (options.target_agent and target_id is None)

    async def _store_transcript(
        self, db: Connection, session_id: str, transcript: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        session = await self.core.session(db, session_id)
        for source, message_type, payload in transcript:
            await self.core.store_message(
                db,
                session,
                direction="transcript",
                message_type=message_type,
                payload={**payload, "source": source},
            )

    async def route(self, db: Connection, session_id: str, *, target_found: bool = True) -> None:
        """Offer the session to its agents, or end it with the outcome that explains why nobody can take it."""
        session = await self.core.session(db, session_id)
        rows = await db.fetch_all("SELECT agent_id FROM session_rejections WHERE session_id = ?", (session_id,))
        rejected = {r["agent_id"] for r in rows}
        contact = await self.core.contact(db, session.contact_id)
        plan = plan_route(await list_agents(db), session, contact, rejected)
        outcome = plan.outcome if target_found else Outcome.NO_AGENTS
        if outcome is not None:
            await self.end_with_outcome(db, session_id, outcome.value)
            return
        await self.core.live_session(db, session_id, "handoff")
        offer = {"sessionId": session_id, "claimDeadline": session.claim_deadline}
        self.core.later(LiveEvent("offer", offer, plan.notify))

    async def end_with_outcome(self, db: Connection, session_id: str, outcome: str) -> None:
        """Tell the end user the outcome's text and close the session, telling Botpress."""
        session = await self.core.session(db, session_id)
        await self.core.say(db, session, outcome.lower())
        await self.core.close_session(db, session, outcome, tell_botpress=True)

    async def link(self, session_id: str, bp_conversation_id: str) -> None:
        """Record the Botpress conversation of a session; its waiting events may now go out."""
        async with self.core.tx() as db:
            await self.core.session(db, session_id)
            await db.execute(
                "UPDATE sessions SET bp_conversation_id = ? WHERE id = ?", (bp_conversation_id, session_id)
            )
            self.core.rows_due()

    async def add_user_message(self, session_id: str, bp_message_id: str, message_type: str, payload: Any) -> str:
        """Store an end-user message (redacted; once per ``bp_message_id``) and show it live."""
        if not isinstance(payload, dict):
            raise InvalidInput("payload", "must be an object")
        async with self.core.tx() as db:
            session = await self.core.session(db, session_id)
            return await self.core.store_message(
                db, session, direction="user", message_type=message_type, payload=payload, bp_message_id=bp_message_id
            )

    async def close_by_bot(self, session_id: str) -> None:
        """Botpress ended the session (``stopHitl``); nothing is sent back. Closing twice is a no-op."""
        async with self.core.tx() as db:
            session = await get_session(db, session_id, self.core.store.for_update())
            if session is None or session.state is SessionState.CLOSED:
                return
            await self.core.close_session(db, session, "stopped by bot", tell_botpress=False)

    async def find_message(self, session_id: str, bp_message_id: str) -> str | None:
        """The id of the message stored for a Botpress message in the session, or ``None`` if none was."""
        row = await self.core.store.fetch_one(
            "SELECT id FROM messages WHERE session_id = ? AND bp_message_id = ?", (session_id, bp_message_id)
        )
        return str(row["id"]) if row else None

    async def require_session(self, session_id: str) -> None:
        """Raise :class:`NotFound` when there is no such session."""
        async with self.core.store.read() as db:
            await self.core.session(db, session_id)
