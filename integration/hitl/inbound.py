"""Helpdesk webhooks: verified and parsed by the adapter, then turned into Botpress messages and events."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from definition.states import HitlSessionState
from definition.tags import CONVERSATION_ID_TAG, MESSAGE_ID_TAG, USER_EMAIL_TAG, USER_ID_TAG
from external_adapters import (
    AgentAssigned,
    AgentMessage,
    AgentProfile,
    InboundEvent,
    WebhookReply,
    WebhookRequest,
)

from ..botpress import Conversation, User
from ..services import Deps
from .once import conversation_lock, event_key, once
from .sessions import load_session, remember, save_session
from .takeover import wait_for_plugin
from .validation import validate

log = logging.getLogger(__name__)


class WebhookReceived(BaseModel):
    """The ``webhook_received`` body."""

    model_config = ConfigDict(extra="ignore")

    req: WebhookRequest


async def webhook_received(deps: Deps, body: Any) -> WebhookReply:
    """Verify, parse and apply a helpdesk webhook; answer what the adapter wants the helpdesk to get."""
    request = validate(WebhookReceived, body, "body").req
    await deps.adapter.verify_webhook(request)
    result = await deps.adapter.parse_webhook(request)
    for event in result.events:
        await apply_event(deps, event)
    return result.reply


async def apply_event(deps: Deps, event: InboundEvent) -> None:
    """Apply one neutral event to its Botpress conversation, at most once per dedupe key.

    Under the conversation's lock across workers; each Botpress event goes through the journal (:func:`_emit`),
    so neither a redelivery on another worker nor a crash between the event and the state write emits it twice.

    An event for a conversation the HITL plugin has not taken yet waits for it first (bounded, see
    :mod:`.takeover`): the plugin would drop it.
    """
    conversation = await _conversation_of(deps, event.external_session_id)
    if conversation is None:
        log.info("ignoring %s for session %s: not one of ours", event.kind, event.external_session_id)
        return
    # Across every worker: the hitlSession read-modify-write below loses no write to a concurrent one.
    async with deps.services.coordinator.lock(conversation_lock(deps.ctx, conversation.id)):
        # Inside the lock, so a held stop cannot overtake the message queued before it.
        conversation = await wait_for_plugin(deps, conversation)
        record = await load_session(deps.botpress, conversation.id)
        record = record or HitlSessionState(external_session_id=event.external_session_id)
        if event.dedupe_key and event.dedupe_key in record.recent_event_keys:
            log.info("ignoring redelivered %s %s", event.kind, event.dedupe_key)
            return
        updated = remember(await _apply(deps, event, conversation, record), event.dedupe_key)
        if updated != record:
            await save_session(deps.botpress, conversation.id, updated)


async def _apply(
    deps: Deps, event: InboundEvent, conversation: Conversation, record: HitlSessionState
) -> HitlSessionState:
    """Apply the event; return the session record as it should now be stored."""
    if isinstance(event, AgentMessage):
        await _post_agent_message(deps, event, conversation)
        return record
    if isinstance(event, AgentAssigned):
        return await _assign(deps, event, conversation, record)
    return await _close(deps, conversation, record)


async def _conversation_of(deps: Deps, external_session_id: str) -> Conversation | None:
    found = await deps.botpress.list_conversations(
        channel=deps.services.settings.renames.channel, tags={CONVERSATION_ID_TAG: external_session_id}, max_pages=1
    )
    return found[0] if found else None


async def agent_user(deps: Deps, agent: AgentProfile) -> User:
    """The agent's Botpress user (tag ``id``), created on first sight and kept up to date."""
    tags = {USER_ID_TAG: agent.external_user_id}
    if agent.email:
        tags[USER_EMAIL_TAG] = agent.email
    user = await deps.botpress.get_or_create_user(
        tags=tags, name=agent.name, picture_url=agent.picture_url, discriminate_by_tags=[USER_ID_TAG]
    )
    stale = (agent.name and user.name != agent.name) or (agent.picture_url and user.picture_url != agent.picture_url)
    if stale:
        user = await deps.botpress.update_user(user.id, name=agent.name, picture_url=agent.picture_url)
    return user


async def _post_agent_message(deps: Deps, event: AgentMessage, conversation: Conversation) -> None:
    # get-or-create on the message tag: a redelivery, or an echo of a message we acked, creates nothing.
    user = await agent_user(deps, event.agent)
    message = event.message
    await deps.botpress.get_or_create_message(
        conversation_id=conversation.id,
        user_id=user.id,
        type=message.message_type,
        payload=message.model_dump(by_alias=True, exclude_none=True),
        tags={MESSAGE_ID_TAG: event.external_message_id},
        discriminate_by_tags=[MESSAGE_ID_TAG],
    )


async def _assign(
    deps: Deps, event: AgentAssigned, conversation: Conversation, record: HitlSessionState
) -> HitlSessionState:
    user = await agent_user(deps, event.agent)
    if record.assigned_agent_id == user.id or record.closed:
        return record
    # The occurrence tells a later assignment of the same agent (A, B, then A again) from a repeat of this one.
    occurrence = event.dedupe_key or f"{user.id}:after:{record.assigned_agent_id}"
    payload = {"conversationId": conversation.id, "userId": user.id}
    await _emit(deps, conversation.id, "hitlAssigned", occurrence, payload)
    return record.model_copy(update={"assigned_agent_id": user.id})


async def _close(deps: Deps, conversation: Conversation, record: HitlSessionState) -> HitlSessionState:
    if record.closed:
        return record
    # A conversation's session ends once (a new handoff is a new conversation): one hitlStopped ever.
    await _emit(deps, conversation.id, "hitlStopped", "once", {"conversationId": conversation.id})
    return record.model_copy(update={"closed": True})


async def _emit(deps: Deps, bp_conversation_id: str, name: str, occurrence: str, payload: dict[str, str]) -> None:
    """Emit a Botpress event once, through the journal; a pending one is settled by reading the conversation's events.

    Under the conversation's lock, the newest event of the type is the last one emitted: when it carries this
    payload, the pending attempt did emit it (the Botpress client uses the same check for a lost answer).
    """
    event_type = deps.services.settings.renames.event(name)

    async def emitted() -> str | None:
        newest = await deps.botpress.newest_event(type=event_type, conversation_id=bp_conversation_id)
        return newest.id if newest is not None and newest.payload == payload else None

    async def emit() -> str:
        created = await deps.botpress.create_event(type=event_type, payload=payload, conversation_id=bp_conversation_id)
        return created.id

    key = event_key(deps.ctx, bp_conversation_id, name, occurrence)
    await once(deps.services.coordinator, key, settle=emitted, write=emit)
