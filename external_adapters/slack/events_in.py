"""Slack deliveries as neutral events: agents' thread replies, and the Claim and Close buttons.

What a delivery changes in a session (who claimed it, whether it is closed) is one atomic update of its session
data (``context.sessions``), which also records *which* delivery made the change (``claimed_via``,
``closed_via``: the delivery's work key). That makes parsing repeatable: the same delivery parsed again after a
crash emits the same events (the core's dedup absorbs what was applied already), while any other delivery sees
the change made and emits nothing for it, so two clicks racing give one ``AgentAssigned``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import JsonValue

from bp_modules.hitl import HitlMessage, HitlText

from ..base import SessionDataStore
from ..errors import ExternalServiceError
from ..events import AgentAssigned, AgentMessage, AgentProfile, InboundEvent, SessionClosed
from . import markup
from .agents import Agents
from .parent import CLAIM_ACTION, CLOSE_ACTION
from .webhooks import BlockActions, EventCallback, MessageEvent, split_session_id, thread_key

log = logging.getLogger(__name__)
CLOSED_NOTICE = "This conversation is closed."
TAKEN_NOTICE = "{name} has this conversation."
# A reply, a reply also sent to the channel, a reply with files: what agents write. Edits, deletions, joins: not.
AGENT_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
Record = dict[str, JsonValue]
FilesOf = Callable[[MessageEvent, str], Awaitable[list[HitlMessage]]]
Notify = Callable[[str, str, str | None, str], Awaitable[None]]


@dataclass(frozen=True)
class Parsed:
    """The events of one delivery, and the session whose parent must show a new state once they are applied."""

    events: list[InboundEvent]
    changed_session_id: str | None = None


@dataclass(frozen=True)
class InboundSide:
    """What turning deliveries into events needs: the session data, the agents, files, and ephemeral notices."""

    sessions: SessionDataStore
    agents: Agents
    files_of: FilesOf
    """The hitl messages of a reply's files (downloaded and re-served), given the event and its dedupe key."""
    notify: Notify
    """Post an ephemeral notice: ``(channel_id, slack_user_id, thread_ts, text)``; best effort."""


def is_agent_reply(message: MessageEvent, bot_user_ids: set[str]) -> bool:
    """A human's reply in a thread: ``thread_ts`` set and not the message's own ``ts``, not a bot, not an edit."""
    if message.subtype not in AGENT_SUBTYPES or message.bot_id or not message.user:
        return False
    if message.user in bot_user_ids or not message.channel:
        return False
    return bool(message.thread_ts) and message.thread_ts != message.ts


async def message_events(
    side: InboundSide, delivery: EventCallback, bot_user_ids: frozenset[str] = frozenset()
) -> Parsed:
    """An agent's reply in a handoff thread: (the claim, if it is the first word in an unclaimed thread,) then
    its text and files. Anything else, and replies in a closed thread (the agent is told), gives nothing."""
    message = delivery.message()
    if message is None or not is_agent_reply(message, delivery.bot_user_ids | bot_user_ids):
        return Parsed([])
    assert message.channel and message.thread_ts and message.user  # is_agent_reply checked them
    session_id = thread_key(message.channel, message.thread_ts)
    record = await side.sessions.get(session_id)
    if record is None:
        return Parsed([])  # a thread the bridge did not open
    if record.get("closed"):
        await side.notify(message.channel, message.user, message.thread_ts, CLOSED_NOTICE)
        return Parsed([])
    agent = await side.agents.profile(message.user)
    claimed = await _claim(side.sessions, session_id, agent, delivery.event_id)
    claim: list[InboundEvent] = [_assigned(session_id, agent)] if claimed else []
    said = await _reply(side, message, session_id, agent, delivery.event_id)
    return Parsed(claim + said, session_id if claimed else None)


def _assigned(session_id: str, agent: AgentProfile) -> AgentAssigned:
    """``AgentAssigned`` keyed by the agent: a repeat of one claim is one event in Botpress."""
    return AgentAssigned(external_session_id=session_id, agent=agent, dedupe_key=f"claim:{agent.external_user_id}")


async def _reply(
    side: InboundSide, message: MessageEvent, session_id: str, agent: AgentProfile, event_id: str
) -> list[InboundEvent]:
    events: list[InboundEvent] = []
    names = await side.agents.names(markup.user_ids(message.text))
    text = markup.to_markdown(message.text, names).strip()
    if text:
        events.append(_said(session_id, message.ts, event_id, agent, HitlText(text=text)))
    for index, payload in enumerate(await side.files_of(message, event_id)):
        events.append(_said(session_id, f"{message.ts}:{index}", f"{event_id}:{index}", agent, payload))
    return events


def _said(session_id: str, message_id: str, dedupe_key: str, agent: AgentProfile, payload: HitlMessage) -> AgentMessage:
    return AgentMessage(
        external_session_id=session_id,
        external_message_id=message_id,
        dedupe_key=dedupe_key,
        agent=agent,
        message=payload,
    )


async def button_events(side: InboundSide, delivery: BlockActions, work_key: str) -> Parsed:
    """A click on Claim or Close of a handoff's parent; other elements, and foreign messages, give nothing."""
    action = next((a for a in delivery.actions if a.action_id in (CLAIM_ACTION, CLOSE_ACTION)), None)
    session_id = action.value if action is not None else None
    if action is None or not session_id or split_session_id(session_id) is None:
        return Parsed([])
    record = await side.sessions.get(session_id)
    if record is None:
        return Parsed([])
    if action.action_id == CLOSE_ACTION:
        return await _close(side, session_id, work_key)
    return await _claim_click(side, delivery, session_id, work_key)


async def _claim_click(side: InboundSide, delivery: BlockActions, session_id: str, work_key: str) -> Parsed:
    """The first click claims (``AgentAssigned``); a later one by someone else is told who has it. Either way the
    parent is drawn again in its current state (a parent an old client still shows with buttons is mended)."""
    channel_id = session_id.partition(":")[0]
    agent = await side.agents.profile(delivery.user.id)
    stored = await side.sessions.update(session_id, _claiming(agent, work_key))
    if stored is None:
        return Parsed([])
    if stored.get("claimed_via") == work_key:
        return Parsed([_assigned(session_id, agent)], session_id)
    if stored.get("closed"):
        await side.notify(channel_id, delivery.user.id, None, CLOSED_NOTICE)
    elif stored.get("claimed_by") != delivery.user.id:
        name = str(stored.get("claimed_by_name") or "Someone")
        await side.notify(channel_id, delivery.user.id, None, TAKEN_NOTICE.format(name=name))
    return Parsed([], session_id)


async def _claim(sessions: SessionDataStore, session_id: str, agent: AgentProfile, work_key: str) -> bool:
    """Set the claim if nobody has it (atomic); whether this delivery is the one that made it (also on a rerun)."""
    stored = await sessions.update(session_id, _claiming(agent, work_key))
    return stored is not None and stored.get("claimed_via") == work_key


def _claiming(agent: AgentProfile, work_key: str) -> Callable[[Record | None], Record | None]:
    """The change "claim it for ``agent`` if nobody has it and it is open" (pure: it may run again)."""

    def change(record: Record | None) -> Record | None:
        if record is None or record.get("claimed_by") or record.get("closed"):
            return record
        return {
            **record,
            "claimed_by": agent.external_user_id,
            "claimed_by_name": agent.name or agent.external_user_id,
            "claimed_via": work_key,
        }

    return change


async def _close(side: InboundSide, session_id: str, work_key: str) -> Parsed:
    """Mark the session closed (atomic); the delivery that did it emits ``SessionClosed``, a later one nothing."""

    def change(record: Record | None) -> Record | None:
        if record is None or record.get("closed"):
            return record
        return {**record, "closed": True, "closed_via": work_key}

    stored = await side.sessions.update(session_id, change)
    if stored is None or stored.get("closed_via") != work_key:
        return Parsed([])
    return Parsed(
        [SessionClosed(external_session_id=session_id, dedupe_key="close", reason="closed in Slack")], session_id
    )


async def best_effort(notice: Awaitable[object], what: str) -> None:
    """Await an ephemeral notice; a failure is logged, never raised (a missed notice is harmless)."""
    try:
        await notice
    except ExternalServiceError as exc:
        log.warning("slack: %s not posted (%s)", what, type(exc).__name__)
