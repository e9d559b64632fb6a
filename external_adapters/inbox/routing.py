"""Who may see a session, who is asked to take it, and why nobody can (pure functions)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from .models import Agent, Contact, Outcome, Session, SessionState


def can_see(agent: Agent, session: Session, contact: Contact | None) -> bool:
    """Visibility: the session's rule tags and the contact's visibility tags must each be empty or
    share a tag with the agent's groups. It applies to admins as well (they can join groups)."""
    groups = set(agent.groups)
    if session.rule_tags and not groups.intersection(session.rule_tags):
        return False
    return not (contact and contact.visibility_tags and not groups.intersection(contact.visibility_tags))


@dataclass(frozen=True)
class RoutePlan:
    """Either the agents to notify, or the outcome that ends the session."""

    notify: frozenset[str] = frozenset()
    outcome: Outcome | None = None


def plan_route(
    agents: Iterable[Agent], session: Session, contact: Contact | None, rejected: Collection[str] = ()
) -> RoutePlan:
    """Route a waiting session: to its target agent, or fanned out to every eligible agent."""
    visible = [agent for agent in agents if can_see(agent, session, contact) and not agent.disabled]
    if session.target_agent_id is not None:
        return _targeted(visible, session, rejected)
    if not visible:
        return RoutePlan(outcome=Outcome.NO_AGENTS)
    candidates = [agent for agent in visible if agent.id not in rejected]
    if not candidates:
        return RoutePlan(outcome=Outcome.REJECTED)
    eligible = frozenset(agent.id for agent in candidates if agent.status in session.claim_statuses)
    return RoutePlan(notify=eligible) if eligible else RoutePlan(outcome=Outcome.NOT_AVAILABLE)


def _targeted(visible: list[Agent], session: Session, rejected: Collection[str]) -> RoutePlan:
    target = next((agent for agent in visible if agent.id == session.target_agent_id), None)
    if target is None:
        return RoutePlan(outcome=Outcome.NO_AGENTS)
    if target.id in rejected:
        return RoutePlan(outcome=Outcome.REJECTED)
    if target.status not in session.claim_statuses:
        return RoutePlan(outcome=Outcome.NOT_AVAILABLE)
    return RoutePlan(notify=frozenset({target.id}))


def claim_refusal(agent: Agent, session: Session, contact: Contact | None) -> str | None:
    """Why ``agent`` may not claim ``session`` now, or ``None`` when they may."""
    if session.state is not SessionState.NEEDS_ACTION:
        return f"the session is {session.state.value}, not waiting for an agent"
    if not can_see(agent, session, contact):
        return "you may not see this session"
    if session.target_agent_id not in (None, agent.id):
        return "the session was offered to another agent"
    if agent.status not in session.claim_statuses:
        allowed = ", ".join(session.claim_statuses)
        return f"your status is {agent.status}; this session may be claimed by: {allowed}"
    return None
