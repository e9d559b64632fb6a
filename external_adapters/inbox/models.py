"""Records of the inbox, as the store returns them and the console shows them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .config import AgentStatus


class SessionState(StrEnum):
    """Where a session stands."""

    NEEDS_ACTION = "NEEDS_ACTION"
    ASSIGNED = "ASSIGNED"
    CLOSED = "CLOSED"


class Outcome(StrEnum):
    """Why nobody took a session. Recorded as the session's close reason."""

    NO_AGENTS = "NO_AGENTS"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"


Role = Literal["agent", "admin"]
Direction = Literal["transcript", "user", "agent", "system"]
Delivery = Literal["sending", "delivered", "failed"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Installation(_Record):
    """A bot installation that subscribed, with its webhook URL and signing secret."""

    id: str
    bot_id: str
    integration_id: str
    webhook_id: str
    webhook_url: str | None
    secret: str = Field(repr=False)


class Agent(_Record):
    """A console user."""

    id: str
    email: str
    name: str
    role: Role
    status: AgentStatus
    groups: list[str] = Field(default_factory=list)
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        """Whether the agent may manage agents and contacts."""
        return self.role == "admin"


class Contact(_Record):
    """An end user, found by any of their identifiers."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    bp_user_id: str | None
    visibility_tags: list[str] = Field(default_factory=list)
    created_at: float


class Session(_Record):
    """A handoff."""

    id: str
    installation_id: str
    contact_id: str
    bp_conversation_id: str | None
    state: SessionState
    close_reason: str | None
    assigned_agent_id: str | None
    target_agent_id: str | None
    claim_statuses: list[AgentStatus]
    claim_deadline: float | None
    rule_tags: list[str]
    labels: list[str]
    title: str | None
    description: str | None
    language: str
    paused: bool
    created_at: float
    updated_at: float
    closed_at: float | None = None
    closed_by_agent_id: str | None = None
    closed_by_name: str | None = None
    """The agent who resolved it; ``None`` when the bot stopped it or an outcome closed it."""


class Message(_Record):
    """A message of a session: transcript, end user, agent or system."""

    id: str
    session_id: str
    direction: Direction
    author_name: str | None
    agent_id: str | None
    type: str
    payload: dict[str, Any]
    text: str
    held: bool
    created_at: float
    delivery: Delivery | None = None
    """Agent messages only: ``sending`` until the webhook answered 2xx (``delivered``), ``failed`` when it gave up."""
    delivery_error: str | None = None


class Note(_Record):
    """An agent's note on a contact; it outlives sessions."""

    id: str
    contact_id: str
    agent_id: str
    agent_name: str
    text: str
    created_at: float


class View(_Record):
    """A saved queue filter."""

    id: str
    name: str
    filters: dict[str, str]
    shared: bool


class QueueFilter(_Record):
    """Filters of the queue."""

    state: SessionState | None = None
    tag: str | None = None
    label: str | None = None
    assigned: Literal["me", "unassigned", "any"] = "any"
    search: str | None = None
    sort: Literal["activity", "waiting"] = "activity"
    limit: int = Field(default=200, ge=1, le=1000)


class QueueItem(_Record):
    """A row of the queue: the session, its contact, and whether it is unclaimed."""

    session: Session
    contact: Contact
    assigned_agent_name: str | None
    unclaimed: bool
    last_text: str | None
    unread: int = 0
    """End-user messages newer than this agent's read mark of the session."""
    waiting_since: float | None = None
    """Since when the contact waits (see :func:`~.queue.waiting_since`)."""
    last_activity: float = 0.0
    """The newest message's time, else the session's ``updated_at``."""
    last_direction: Direction | None = None
    state_text: str = ""
    """The state in words: "Waiting", "Assigned to Alice", "No agent available"..."""
    outcome: Outcome | None = None
    """Why nobody took it, as a code (for filters)."""
