"""The hitl channel: messages the bot writes in a hitl conversation go to the helpdesk."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bp_modules.hitl import HITL_MESSAGE_TYPES, parse_hitl_payload
from definition.tags import CONVERSATION_ID_TAG, MESSAGE_ID_TAG, USER_ID_TAG
from external_adapters import OutboundMessage

from ..errors import BotpressRuntimeError, InvalidPayloadError
from ..services import Deps
from .validation import describe, validate

log = logging.getLogger(__name__)


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    tags: dict[str, str] = Field(default_factory=dict)


class _ConversationRef(_Ref):
    channel: str


class MessageCreated(BaseModel):
    """The ``message_created`` body (only what we read)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    payload: dict[str, Any]
    conversation: _ConversationRef
    message: _Ref
    user: _Ref


async def message_created(deps: Deps, body: Any) -> None:
    """Send the message to the helpdesk session, then ack it with the helpdesk's message id."""
    event = validate(MessageCreated, body, "body")
    _check_route(deps, event)
    if event.message.tags.get(MESSAGE_ID_TAG):
        log.info("message %s was already delivered; skipping the redelivery", event.message.id)
        return
    external_session_id = event.conversation.tags.get(CONVERSATION_ID_TAG)
    if not external_session_id:
        raise BotpressRuntimeError(f"conversation {event.conversation.id} is not linked to a helpdesk session")
    try:
        message = parse_hitl_payload(event.type, event.payload)
    except ValidationError as exc:
        raise InvalidPayloadError(describe(exc, "payload")) from None
    async with deps.services.locks.hold(f"msg:{event.message.id}"):
        await _deliver(deps, event, external_session_id, message)


def _check_route(deps: Deps, event: MessageCreated) -> None:
    channel = deps.services.settings.renames.channel
    if event.conversation.channel != channel:
        raise InvalidPayloadError(f"Channel {event.conversation.channel} not found")
    if event.type not in HITL_MESSAGE_TYPES:
        raise InvalidPayloadError(f"Message of type {event.type} not found in channel {channel}")


async def _deliver(deps: Deps, event: MessageCreated, external_session_id: str, message: Any) -> None:
    done_key = f"sent:{deps.ctx.installation.bot_id}:{event.message.id}"
    found, external_message_id = deps.services.sent_messages.get(done_key)
    if not found or external_message_id is None:
        author = await author_external_id(deps, message.user_id or event.user.id, event.user)
        request = OutboundMessage(
            external_session_id=external_session_id,
            author_external_id=author,
            message=message,
            bp_message_id=event.message.id,
        )
        external_message_id = await deps.adapter.send_message(request)
        deps.services.sent_messages.put(done_key, external_message_id)
    await deps.botpress.update_message(event.message.id, tags={MESSAGE_ID_TAG: external_message_id})


async def author_external_id(deps: Deps, bp_user_id: str, sender: _Ref | None = None) -> str | None:
    """The helpdesk id of a Botpress user, ``None`` for a system author.

    A found id is cached for the configured TTL; "not linked" is never cached, so a user linked by
    createUser a moment later is an author at once.
    """
    key = f"author:{deps.ctx.installation.bot_id}:{bp_user_id}"
    found, cached = deps.services.author_cache.get(key)
    if found:
        return cached
    if sender is not None and sender.id == bp_user_id and sender.tags.get(USER_ID_TAG):
        external_id: str | None = sender.tags[USER_ID_TAG]
    else:
        user = await deps.botpress.get_user(bp_user_id)
        external_id = user.tags.get(USER_ID_TAG) if user is not None else None
    if external_id is not None:
        deps.services.author_cache.put(key, external_id)
    return external_id
