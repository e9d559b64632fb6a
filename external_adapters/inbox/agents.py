"""Agent accounts: argon2 password hashes, roles, statuses, groups and console login tokens."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .config import AgentStatus
from .errors import Conflict, InvalidInput, NotFound
from .models import Agent, Role
from .repo import find_agent, get_agent, list_agents
from .store import Connection, Store, new_id
from .throttle import LoginThrottle

MIN_PASSWORD_LENGTH = 8
STATUSES: tuple[AgentStatus, ...] = ("available", "busy", "offline")
HASH_WORKERS = 2
"""Threads that hash and check passwords. Argon2 is slow and memory-hungry by design: in their own small pool,
a flood of logins waits its turn there instead of filling the event loop's default executor (which DNS lookups,
file responses and everything else share) or the machine's memory."""
_hasher = PasswordHasher()
_hash_pool: ThreadPoolExecutor | None = None
T = TypeVar("T")


async def _in_hash_pool(function: Callable[..., T], *args: str) -> T:
    """Run an argon2 call in the bounded password pool (made on first use, shared by every event loop)."""
    global _hash_pool
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="argon2")
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, functools.partial(function, *args))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_hash(token: str) -> str:
    """How a login token is stored (its SHA-256): what :meth:`AgentDirectory.revoke_logins` returns."""
    return _token_hash(token)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


def _check_email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or len(cleaned) > 254:
        raise InvalidInput("email", "must be an e-mail address")
    return cleaned


async def _insert_groups(db: Connection, agent_id: str, groups: Iterable[str]) -> None:
    for group in sorted(set(groups)):
        await db.execute("INSERT INTO agent_groups (agent_id, group_name) VALUES (?, ?)", (agent_id, group))


class AgentDirectory:
    """Creates agents, checks their passwords and login tokens, and changes their status and groups."""

    def __init__(self, store: Store, clock: Callable[[], float], login_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self._login_seconds = login_seconds
        self.throttle = LoginThrottle(clock)

    async def create(
        self,
        email: str,
        password: str,
        *,
        name: str | None = None,
        role: Role = "agent",
        groups: Iterable[str] = (),
        status: AgentStatus = "offline",
    ) -> Agent:
        """Create an agent. Raises :class:`Conflict` when the e-mail is taken (also by a worker creating it at once:
        the e-mail is unique, and the insert is checked by its row count)."""
        email = _check_email(email)
        _check_password(password)
        password_hash = await _in_hash_pool(_hasher.hash, password)
        agent_id = new_id("agt")
        async with self._store.transaction() as db:
            if await find_agent(db, email):
                raise Conflict(f"an agent with e-mail {email} exists")
            inserted = await db.execute(
                "INSERT INTO agents (id, email, name, password_hash, role, status, created_at) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT (email) DO NOTHING",
                (agent_id, email, name or email.split("@")[0], password_hash, role, status, self._clock()),
            )
            if not inserted:
                raise Conflict(f"an agent with e-mail {email} exists")
            await _insert_groups(db, agent_id, groups)
        return await self.get(agent_id)

    async def ensure_admin(self, email: str, password: str, *, reset: bool = False) -> Agent:
        """Create the admin if missing; with ``reset``, also make an existing account admin with this password."""
        existing = await self.find(email)
        if existing is None:
            try:
                return await self.create(email, password, role="admin", status="available")
            except Conflict:  # another worker starting at the same time created it
                existing = await self.find(email)
                if existing is None:
                    raise
        if reset:
            _check_password(password)
            password_hash = await _in_hash_pool(_hasher.hash, password)
            async with self._store.transaction() as db:
                # A reset is how a locked-out admin gets back in: it also enables a disabled account.
                await db.execute(
                    "UPDATE agents SET role = 'admin', password_hash = ?, disabled = 0 WHERE id = ?",
                    (password_hash, existing.id),
                )
        return await self.get(existing.id)

    async def get(self, agent_id: str) -> Agent:
        """The agent. Raises :class:`NotFound`."""
        async with self._store.read() as db:
            agent = await get_agent(db, agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id}")
        return agent

    async def find(self, id_or_email: str) -> Agent | None:
        """The agent by id or e-mail, or ``None``."""
        async with self._store.read() as db:
            return await find_agent(db, id_or_email)

    async def all(self) -> list[Agent]:
        """Every agent."""
        async with self._store.read() as db:
            return await list_agents(db)

    async def authenticate(self, email: str, password: str, client: str | None = None) -> Agent | None:
        """The agent whose password this is, or ``None`` (unknown e-mail and wrong password look alike).

        Throttled per account and per ``client`` address (see :mod:`.throttle`): raises
        :class:`~.throttle.TooManyAttempts` once either had too many failures in the last minute."""
        keys = [f"account:{email.strip().lower()}", *([f"client:{client}"] if client else [])]
        started = self.throttle.begin(keys)
        agent = await self._check_password(email, password)
        if agent is not None:
            self.throttle.succeeded(keys, started)
        return agent

    async def _check_password(self, email: str, password: str) -> Agent | None:
        row = await self._store.fetch_one("SELECT id, password_hash FROM agents WHERE email = ?", (email.lower(),))
        if row is None:
            await _in_hash_pool(_hasher.hash, password)  # same cost as a real check
            return None
        try:
            await _in_hash_pool(_hasher.verify, row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return await self.get(row["id"])

    async def issue_token(self, agent_id: str) -> str:
        """A new login token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM login_tokens WHERE expires_at < ?", (self._clock(),))
            await db.execute(
                "INSERT INTO login_tokens (token_hash, agent_id, expires_at) VALUES (?, ?, ?)",
                (_token_hash(token), agent_id, self._clock() + self._login_seconds),
            )
        return token

    async def from_token(self, token: str) -> Agent | None:
        """The agent a live login token belongs to, or ``None``."""
        async with self._store.read() as db:
            row = await db.fetch_one(
                "SELECT agent_id FROM login_tokens WHERE token_hash = ? AND expires_at >= ?",
                (_token_hash(token), self._clock()),
            )
            agent = await get_agent(db, row["agent_id"]) if row else None
        # A token issued while an admin disabled the account (a login racing the disable) still opens nothing.
        return agent if agent is not None and not agent.disabled else None

    async def login_expiry(self, token: str) -> float | None:
        """When a live login token expires (service clock), or ``None`` when it is unknown, revoked or expired."""
        row = await self._store.fetch_one(
            "SELECT expires_at FROM login_tokens WHERE token_hash = ? AND expires_at >= ?",
            (_token_hash(token), self._clock()),
        )
        return float(row["expires_at"]) if row else None

    async def revoke_token(self, token: str) -> None:
        """Log a token out."""
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM login_tokens WHERE token_hash = ?", (_token_hash(token),))

    async def hash_password(self, password: str) -> str:
        """The argon2 hash of a new password, checked against the length rule; computed in the password pool."""
        _check_password(password)
        return await _in_hash_pool(_hasher.hash, password)

    async def revoke_logins(self, db: Connection, agent_id: str, keep: str | None = None) -> list[str]:
        """Delete the agent's login tokens (but ``keep``, a token itself) in the caller's transaction; return the
        hashes deleted, so the caller can close their sockets (:func:`token_hash`)."""
        kept = _token_hash(keep) if keep else ""
        rows = await db.fetch_all("SELECT token_hash FROM login_tokens WHERE agent_id = ?", (agent_id,))
        await db.execute("DELETE FROM login_tokens WHERE agent_id = ? AND token_hash <> ?", (agent_id, kept))
        return [str(r["token_hash"]) for r in rows if r["token_hash"] != kept]

    async def set_status(self, agent_id: str, status: str) -> Agent:
        """Change the agent's status."""
        if status not in STATUSES:
            raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}")
        async with self._store.transaction() as db:
            await db.execute("UPDATE agents SET status = ? WHERE id = ?", (status, agent_id))
        return await self.get(agent_id)

    async def set_groups(self, agent_id: str, groups: Iterable[str]) -> Agent:
        """Replace the agent's groups."""
        await self.get(agent_id)
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM agent_groups WHERE agent_id = ?", (agent_id,))
            await _insert_groups(db, agent_id, groups)
        return await self.get(agent_id)
