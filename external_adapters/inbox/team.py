"""What admins do to agent accounts: create, rename, change role and groups, disable, reset passwords.

Every change is published as an ``agent`` live event (to everyone, through the relay as a status change is), so
the other consoles' Transfer lists and presence update without a reload. Disabling an account or resetting its
password revokes its logins in the same transaction; the caller closes this worker's sockets of the revoked tokens
at once (the hashes returned); on every other worker the ``agent`` event makes the agent's sockets check their login
at once (``live.py``), and the periodic login check covers a lost event.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from .core import Core
from .errors import Conflict, InvalidInput, NotFound
from .models import Agent, Role
from .repo import get_agent
from .signals import agent_changed
from .store import Connection

MAX_NAME = 100


class AgentExists(Conflict):
    """The e-mail belongs to an agent already; :attr:`agent_id` says which (a repeated create learns its id)."""

    def __init__(self, email: str, agent_id: str) -> None:
        super().__init__(f"email: an agent with e-mail {email} exists")
        self.agent_id = agent_id


class AgentPatch(BaseModel):
    """The fields an admin may change; each is absolute (a repeat sets the same value)."""

    name: str | None = None
    role: Role | None = None
    disabled: bool | None = None
    groups: list[str] | None = None


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput("name", f"must be 1 to {MAX_NAME} characters")
    return name


def _clean_groups(groups: Iterable[str]) -> list[str]:
    return sorted({g.strip() for g in groups if g.strip()})


def _refuse_self_lockout(admin: Agent, agent_id: str, patch: AgentPatch) -> None:
    if admin.id != agent_id:
        return
    if patch.disabled:
        raise Conflict("disabled: you cannot disable your own account")
    if patch.role == "agent" and admin.is_admin:
        raise Conflict("role: you cannot remove your own admin role")


class Team:
    """Admin operations on agents (the caller checks that the acting agent is an admin)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def create(self, email: str, password: str, *, name: str | None, role: Role, groups: Iterable[str]) -> Agent:
        """Create an agent and tell every console.

        Retry-safe by the unique e-mail (checked by the insert's row count): a repeat, or a create racing it, raises
        :class:`AgentExists` with the existing agent's id, and creates nothing."""
        try:
            agent = await self.core.agents.create(
                email, password, name=_clean_name(name) if name else None, role=role, groups=_clean_groups(groups)
            )
        except Conflict:
            existing = await self.core.agents.find(email.strip().lower())
            if existing is None:
                raise
            raise AgentExists(existing.email, existing.id) from None
        await agent_changed(self.core, agent)
        return agent

    async def update(self, admin: Agent, agent_id: str, patch: AgentPatch) -> tuple[Agent, list[str]]:
        """Apply ``patch``; return the agent and the login-token hashes it revoked (when it disabled them).

        Retry-safe: every field is absolute, so a repeat after a lost answer writes the same row (and revokes
        nothing more). An admin cannot disable or demote themself (:class:`Conflict`)."""
        _refuse_self_lockout(admin, agent_id, patch)
        async with self.core.store.transaction() as db:
            await self._existing(db, agent_id)
            revoked = await self._apply(db, agent_id, patch)
            agent = await self._existing(db, agent_id)
        await agent_changed(self.core, agent)
        return agent, revoked

    async def _apply(self, db: Connection, agent_id: str, patch: AgentPatch) -> list[str]:
        if patch.name is not None:
            await db.execute("UPDATE agents SET name = ? WHERE id = ?", (_clean_name(patch.name), agent_id))
        if patch.role is not None:
            await db.execute("UPDATE agents SET role = ? WHERE id = ?", (patch.role, agent_id))
        if patch.groups is not None:
            await db.execute("DELETE FROM agent_groups WHERE agent_id = ?", (agent_id,))
            for group in _clean_groups(patch.groups):
                await db.execute("INSERT INTO agent_groups (agent_id, group_name) VALUES (?, ?)", (agent_id, group))
        if patch.disabled is None:
            return []
        # A disabled agent is offline, so routing and presence never count them.
        status = "offline" if patch.disabled else None
        await db.execute(
            "UPDATE agents SET disabled = ?, status = coalesce(?, status) WHERE id = ?",
            (int(patch.disabled), status, agent_id),
        )
        return await self.core.agents.revoke_logins(db, agent_id) if patch.disabled else []

    async def reset_password(self, admin: Agent, agent_id: str, password: str, keep_token: str | None) -> list[str]:
        """Give the agent a new password and revoke their logins (an admin resetting their own keeps the login
        they act with); return the revoked token hashes. Retry-safe: a repeat sets the same password again, and
        there is nothing more to revoke."""
        password_hash = await self.core.agents.hash_password(password)
        async with self.core.store.transaction() as db:
            await self._existing(db, agent_id)
            await db.execute("UPDATE agents SET password_hash = ? WHERE id = ?", (password_hash, agent_id))
            keep = keep_token if admin.id == agent_id else None
            revoked = await self.core.agents.revoke_logins(db, agent_id, keep=keep)
            agent = await self._existing(db, agent_id)
        await agent_changed(self.core, agent)  # the agent's sockets on every worker check their login at once
        return revoked

    async def listed_for(self, agent: Agent) -> list[Agent]:
        """Every agent for admins; the enabled ones for others (transfer targets, presence)."""
        agents = await self.core.agents.all()
        return agents if agent.is_admin else [a for a in agents if not a.disabled]

    async def _existing(self, db: Connection, agent_id: str) -> Agent:
        agent = await get_agent(db, agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id}")
        return agent
