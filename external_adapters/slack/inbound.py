"""Slack's deliveries to the webhook URL: signature, url_verification, events and buttons.

Slack wants an answer within 3 seconds, so :func:`acknowledge_webhook` answers at once (the challenge, or an empty
200) with the delivery's stable id as the work key (a retry, ``X-Slack-Retry-Num``, has the same one and is
dropped) and its thread as the order key; :func:`parse_webhook` runs afterwards in a worker, where the slow parts
happen (``users.info``, downloading agents' files), and :func:`webhook_applied` edits the parent message once the
events it made are applied in Botpress. Without the deferred path the same functions run before the answer.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from bp_modules.hitl import HitlAudio, HitlFile, HitlImage, HitlMessage, HitlText, HitlVideo

from ..base import WebhookAck, WebhookReply, WebhookRequest, WebhookResult
from ..errors import ExternalRequestError
from .agents import Agents
from .events_in import InboundSide, Parsed, best_effort, button_events, is_agent_reply, message_events
from .files_in import StoredFile, file_key
from .subscription import bot_identity
from .threads import show_parent
from .webhooks import (
    BlockActions,
    Delivery,
    EventCallback,
    MessageEvent,
    SharedFile,
    UrlVerification,
    parse_delivery,
    thread_key,
    verify_signature,
)

if TYPE_CHECKING:
    from .adapter import SlackAdapter

log = logging.getLogger(__name__)
FILE_NOTICE = "(The agent shared a file, {name}, that could not be forwarded: {why}.)"


async def verify_webhook(adapter: SlackAdapter, request: WebhookRequest) -> None:
    """Check ``X-Slack-Signature`` (v0) over the exact body and the 5-minute window (``runtime.clock``).

    Raises:
        InvalidSignatureError: missing headers, a stale timestamp or a wrong signature.
    """
    secret = adapter.config.signing_secret.get_secret_value()
    verify_signature(secret, request.headers, request.body_bytes, adapter.runtime.clock)


async def acknowledge_webhook(adapter: SlackAdapter, request: WebhookRequest) -> WebhookAck | None:
    """Answer Slack at once and queue the work (no upstream call): see :func:`acknowledgement`."""
    return acknowledgement(parse_delivery(request.body))


def acknowledgement(delivery: Delivery | None) -> WebhookAck:
    """The challenge for a url_verification; else an empty 200 with the delivery's work and order keys.

    What can be told from the body alone to need no work (the bot's own posts coming back, top-level messages,
    edits, events of other kinds) is answered without being queued: half of a thread's deliveries are echoes."""
    if isinstance(delivery, UrlVerification):
        return WebhookAck(reply=challenge_reply(delivery), work_key=None)
    if isinstance(delivery, EventCallback):
        message = delivery.message()
        if message is None or not is_agent_reply(message, delivery.bot_user_ids):
            return WebhookAck(work_key=None)  # the bot's own echoes, top-level messages, other events: no work
        assert message.channel and message.thread_ts  # is_agent_reply checked them
        return WebhookAck(work_key=delivery.event_id, order_key=thread_key(message.channel, message.thread_ts))
    if isinstance(delivery, BlockActions):
        return WebhookAck(work_key=action_key(delivery), order_key=_button_session(delivery))
    return WebhookAck(work_key=None)  # a kind the bridge does not read: nothing to do


def challenge_reply(delivery: UrlVerification) -> WebhookReply:
    """``{"challenge": ...}`` as JSON."""
    body = json.dumps({"challenge": delivery.challenge})
    return WebhookReply(status=200, headers={"Content-Type": "application/json"}, body=body)


def action_key(delivery: BlockActions) -> str:
    """A click's stable id: Slack gives interactions no event id, but a click's ``action_ts`` and user are its own."""
    action = delivery.actions[0] if delivery.actions else None
    parts = [delivery.container.channel_id, delivery.container.message_ts, delivery.user.id]
    parts += [action.action_id, action.action_ts] if action is not None else []
    return "action:" + ":".join(part or "-" for part in parts)


def _button_session(delivery: BlockActions) -> str | None:
    container = delivery.container
    if container.channel_id and container.message_ts:
        return thread_key(container.channel_id, container.message_ts)
    return next((action.value for action in delivery.actions if action.value), None)


async def parse_webhook(adapter: SlackAdapter, request: WebhookRequest) -> WebhookResult:
    """A reply or a click as neutral events; ``checkpoint`` names the session whose parent shows a new state."""
    delivery = parse_delivery(request.body)
    if isinstance(delivery, UrlVerification):
        return WebhookResult(reply=challenge_reply(delivery))
    side = inbound_side(adapter)
    parsed = Parsed([])
    if isinstance(delivery, EventCallback):
        identity = await bot_identity(adapter.context)  # register's auth.test, beside the delivery's own list
        parsed = await message_events(
            side, delivery, frozenset({identity.user_id} if identity and identity.user_id else ())
        )
    elif isinstance(delivery, BlockActions):
        parsed = await button_events(side, delivery, action_key(delivery))
    return WebhookResult(events=parsed.events, checkpoint=parsed.changed_session_id)


async def webhook_applied(adapter: SlackAdapter, result: WebhookResult) -> None:
    """Edit the parent of the session the delivery claimed or closed, once Botpress has the events.

    Retry-safe: the parent is rendered from the session data as it is now, so running this again (or after a
    later change) makes the same edit or the newer one; ``chat.update`` of the same content changes nothing.
    """
    if result.checkpoint:
        record = await adapter.context.sessions.get(result.checkpoint)
        if record is not None:
            await show_parent(adapter.sender(), result.checkpoint, record)


def inbound_side(adapter: SlackAdapter) -> InboundSide:
    """What :mod:`.events_in` needs, from the adapter."""
    context = adapter.context
    agents = Agents(adapter.client, context.env.coordinator, context.installation.integration_id)

    async def files_of(message: MessageEvent, event_id: str) -> list[HitlMessage]:
        return [await _forward(adapter, shared) for shared in message.files]

    async def notify(channel_id: str, slack_user_id: str, thread_ts: str | None, text: str) -> None:
        notice = adapter.post_client.post_ephemeral(channel_id, slack_user_id, text, thread_ts)
        await best_effort(notice, "ephemeral notice")

    return InboundSide(sessions=context.sessions, agents=agents, files_of=files_of, notify=notify)


async def _forward(adapter: SlackAdapter, shared: SharedFile) -> HitlMessage:
    """One agent file as a hitl message at a signed URL of the bridge, or a text notice when it cannot be.

    Retry-safe: the file is kept under a key made of the installation and Slack's file id, written once.
    Raises what a transient failure raises (the delivery is then processed again later).
    """
    runtime, public_url = adapter.runtime, adapter.context.env.public_url
    name = shared.name or shared.title or "file"
    url = shared.url_private_download or shared.url_private
    why = _unforwardable(adapter, shared, url)
    if why is not None or url is None or runtime.files is None or not public_url:
        return HitlText(text=FILE_NOTICE.format(name=name, why=why))
    try:
        content, header_type = await adapter.client.download(url, runtime.max_file_bytes)
    except ExternalRequestError as exc:
        log.info("slack: file %s not forwarded (%s)", shared.id, type(exc).__name__)
        return HitlText(text=FILE_NOTICE.format(name=name, why="Slack refused it, or it is too large"))
    content_type = shared.mimetype or header_type.split(";")[0].strip() or "application/octet-stream"
    key, now = file_key(adapter.context.installation.integration_id, shared.id), runtime.clock()
    await runtime.files.put(key, StoredFile(name=name, content_type=content_type, content=content), now)
    return file_message(content_type, runtime.files.signed_url(public_url, key, now), shared.title or name)


def _unforwardable(adapter: SlackAdapter, shared: SharedFile, url: str | None) -> str | None:
    """Why a file cannot be re-served (before any download), or ``None``."""
    runtime = adapter.runtime
    if url is None:  # a share Slack announces without its content (file_access: check_file_info)
        return "Slack did not deliver it"
    if runtime.files is None or not adapter.context.env.public_url:
        return "the bridge has no file store or public URL"
    if shared.size is not None and shared.size > runtime.max_file_bytes:
        return f"it is larger than {runtime.max_file_bytes} bytes"
    return None


def file_message(content_type: str, url: str, title: str) -> HitlMessage:
    """The hitl message for a file of ``content_type``: image, audio, video, else a file."""
    if content_type.startswith("image/"):
        return HitlImage.model_validate({"imageUrl": url, "title": title})
    if content_type.startswith("audio/"):
        return HitlAudio.model_validate({"audioUrl": url, "title": title})
    if content_type.startswith("video/"):
        return HitlVideo.model_validate({"videoUrl": url, "title": title})
    return HitlFile.model_validate({"fileUrl": url, "title": title})
