"""The hitl channel: messages the bot writes in a hitl conversation go to the helpdesk."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bp_modules.hitl import HITL_MESSAGE_TYPES, HitlMessage, parse_hitl_payload
from definition.tags import CONVERSATION_ID_TAG, MESSAGE_ID_TAG
from external_adapters import OutboundMessage

from ..errors import BotpressRuntimeError, InvalidPayloadError
from ..services import Deps
from .authors import Sender, message_author
from .once import message_key, once
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
    user: Sender


async def message_created(deps: Deps, body: Any) -> None:
    """Send the message to the helpdesk session once, then ack it with the helpdesk's message id.

    Once through crashes and across workers: under the message's lock, the intent goes to the delivery journal
    before the send (see :func:`.once.once`). A redelivery of a message already sent acks it with the journaled
    id; one whose earlier send has an unknown outcome asks the adapter (``find_message``) before sending again.
    """
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
    external_message_id = await _deliver(deps, _Delivery(deps, event, external_session_id, message))
    # The ack is a PUT of the same tag: repeating it (a redelivery after a lost ack) is harmless.
    await deps.botpress.update_message(event.message.id, tags={MESSAGE_ID_TAG: external_message_id})


def _check_route(deps: Deps, event: MessageCreated) -> None:
    channel = deps.services.settings.renames.channel
    if event.conversation.channel != channel:
        raise InvalidPayloadError(f"Channel {event.conversation.channel} not found")
    if event.type not in HITL_MESSAGE_TYPES:
        raise InvalidPayloadError(f"Message of type {event.type} not found in channel {channel}")


@dataclass
class _Delivery:
    """One message for the adapter; its request (and the author lookup in it) is built only if the journal asks."""

    deps: Deps
    event: MessageCreated
    external_session_id: str
    message: HitlMessage
    _request: OutboundMessage | None = None

    async def request(self) -> OutboundMessage:
        """The adapter's request, built on first use."""
        if self._request is None:
            bp_user_id = self.message.user_id or self.event.user.id
            external_author, display = await message_author(self.deps, bp_user_id, self.event.user)
            self._request = OutboundMessage(
                external_session_id=self.external_session_id,
                author_external_id=external_author,
                author=display,
                message=self.message,
                bp_message_id=self.event.message.id,
            )
        return self._request

    async def find(self) -> str | None:
        """The helpdesk's id of this message if an earlier attempt delivered it."""
        return await self.deps.adapter.find_message(await self.request())

    async def send(self) -> str:
        """Send it now."""
        return await self.deps.adapter.send_message(await self.request())


async def _deliver(deps: Deps, delivery: _Delivery) -> str:
    """The helpdesk id of the message: journaled, found by the adapter, or sent now (once per message key)."""
    coordinator = deps.services.coordinator
    key = message_key(deps.ctx, delivery.event.message.id)
    async with coordinator.lock(key):
        return await once(coordinator, key, settle=delivery.find, write=delivery.send)
