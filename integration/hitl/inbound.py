"""Helpdesk webhooks: verified and parsed by the adapter, then turned into Botpress messages and events."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from definition.states import HitlSessionState
from definition.tags import MESSAGE_ID_TAG
from external_adapters import (
    AgentAssigned,
    AgentMessage,
    InboundEvent,
    SessionClosed,
    WebhookReply,
    WebhookRequest,
)

from ..botpress import Conversation
from ..services import Deps
from .deferred import enqueue
from .lookups import agent_user_id, conversation_of, remember_conversation
from .once import conversation_lock, event_key, once
from .sessions import load_session, remember, save_session
from .takeover import taken_by_plugin, wait_for_plugin
from .validation import validate

log = logging.getLogger(__name__)


class WebhookReceived(BaseModel):
    """The ``webhook_received`` body."""

    model_config = ConfigDict(extra="ignore")

    req: WebhookRequest


async def webhook_received(deps: Deps, body: Any) -> WebhookReply:
    """Verify a helpdesk webhook, then apply it now, or queue it and answer at once (the adapter decides).

    An adapter whose ``acknowledge_webhook`` returns a :class:`WebhookAck` gets its reply as soon as the delivery
    is stored in the work queue (:func:`.deferred.enqueue`); a worker applies it later
    (:mod:`.deferred_worker`). Otherwise the webhook is applied before the reply (:func:`process_webhook`).
    """
    request = validate(WebhookReceived, body, "body").req
    await deps.adapter.verify_webhook(request)
    ack = await deps.adapter.acknowledge_webhook(request)
    if ack is None:
        return await process_webhook(deps, request)
    if ack.work_key is not None:
        await enqueue(deps, request, ack)
    return ack.reply


async def process_webhook(deps: Deps, request: WebhookRequest) -> WebhookReply:
    """Parse and apply a verified webhook; return what the adapter wants the helpdesk to get.

    Once every event is applied (a failure raises before), the adapter is told (``webhook_applied``), so it can
    record how far it got; for a session that is not ours it is not, and the reply is the adapter's
    ``unknown_reply`` when it gave one.
    """
    result = await deps.adapter.parse_webhook(request)
    ours = [await apply_event(deps, event) for event in result.events]
    if all(ours):
        await deps.adapter.webhook_applied(result)
        return result.reply
    return result.unknown_reply or result.reply


async def apply_event(deps: Deps, event: InboundEvent) -> bool:
    """Apply one neutral event to its Botpress conversation, at most once; ``False``: the session is not ours.

    Under the conversation's lock across workers, so one session's events are applied one at a time, in order.
    An agent message's dedup is its get-or-create on the message's tag: no state is read or written for it. An
    assignment or a close goes by the ``hitlSession`` record (its dedupe keys, who is assigned, whether closed),
    and each Botpress event through the journal (:func:`_emit`), so neither a redelivery on another worker nor a
    crash between the event and the state write emits it twice.

    An event for a conversation the HITL plugin has not taken yet waits for it first (bounded, see
    :mod:`.takeover`): the plugin would drop it.
    """
    conversation = await conversation_of(deps, event.external_session_id)
    if conversation is None:
        log.info("ignoring %s for session %s: not one of ours", event.kind, event.external_session_id)
        return False
    async with deps.services.coordinator.lock(conversation_lock(deps.ctx, conversation.id)):
        # Inside the lock, so a held stop cannot overtake the message queued before it.
        conversation = await _taken(deps, event.external_session_id, conversation)
        if isinstance(event, AgentMessage):
            await _post_agent_message(deps, event, conversation)
        else:
            await _apply_to_session(deps, event, conversation)
    return True


async def _taken(deps: Deps, external_session_id: str, conversation: Conversation) -> Conversation:
    """The conversation once the plugin took it (or the wait is over); the memo learns the plugin's tag."""
    latest = await wait_for_plugin(deps, conversation)
    if taken_by_plugin(latest) and not taken_by_plugin(conversation):
        await remember_conversation(deps, external_session_id, latest)
    return latest


async def _apply_to_session(deps: Deps, event: AgentAssigned | SessionClosed, conversation: Conversation) -> None:
    """An assignment or a close: a read-modify-write of the session record (the caller holds its lock)."""
    record = await load_session(deps.botpress, conversation.id)
    record = record or HitlSessionState(external_session_id=event.external_session_id)
    if event.dedupe_key and event.dedupe_key in record.recent_event_keys:
        log.info("ignoring redelivered %s %s", event.kind, event.dedupe_key)
        return
    if isinstance(event, AgentAssigned):
        applied = await _assign(deps, event, conversation, record)
    else:
        applied = await _close(deps, conversation, record)
    updated = remember(applied, event.dedupe_key)
    if updated != record:
        await save_session(deps.botpress, conversation.id, updated)


async def _post_agent_message(deps: Deps, event: AgentMessage, conversation: Conversation) -> None:
    # get-or-create on the message tag: a redelivery, or an echo of a message we acked, creates nothing.
    bp_user_id = await agent_user_id(deps, event.agent)
    message = event.message
    await deps.botpress.get_or_create_message(
        conversation_id=conversation.id,
        user_id=bp_user_id,
        type=message.message_type,
        payload=message.model_dump(by_alias=True, exclude_none=True),
        tags={MESSAGE_ID_TAG: event.external_message_id},
        discriminate_by_tags=[MESSAGE_ID_TAG],
    )


async def _assign(
    deps: Deps, event: AgentAssigned, conversation: Conversation, record: HitlSessionState
) -> HitlSessionState:
    bp_user_id = await agent_user_id(deps, event.agent)
    if record.assigned_agent_id == bp_user_id or record.closed:
        return record
    # The occurrence tells a later assignment of the same agent (A, B, then A again) from a repeat of this one.
    occurrence = event.dedupe_key or f"{bp_user_id}:after:{record.assigned_agent_id}"
    payload = {"conversationId": conversation.id, "userId": bp_user_id}
    await _emit(deps, conversation.id, "hitlAssigned", occurrence, payload)
    return record.model_copy(update={"assigned_agent_id": bp_user_id})


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
