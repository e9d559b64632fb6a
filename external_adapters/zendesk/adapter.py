"""The Zendesk Support adapter: one ticket per hitl session, agents answer from Zendesk.

Design notes (the why; the how is in docs/zendesk.md):

* Retry-safe ``open_session``: the ticket is created with the tag and external_id
  ``hitl_req_<hash of the idempotency key>``. A retry first looks the ticket up by that external_id
  (immediate), then, since ``link_session`` replaces the external_id with the Botpress conversation
  id, by the tag through the search API (which lags a little behind writes).
* Webhooks carry ids only; comments, users and tickets are read back through the API.
"""

from __future__ import annotations

import base64
import html
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar
from urllib.parse import quote

from ..base import (
    AdapterContext,
    AdapterEnvironment,
    ExternalUserRequest,
    HelpdeskAdapter,
    OpenSessionRequest,
    OutboundMessage,
    WebhookRequest,
    WebhookResult,
)
from ..errors import (
    AdapterConfigError,
    ExternalNotFoundError,
    ExternalRequestError,
    InvalidSignatureError,
    OutcomeUnknownError,
)
from ..events import AgentAssigned, InboundEvent, SessionClosed
from ..guarded_http import guarded_client
from . import subscription as subs
from .client import ZendeskClient
from .comments import comments_for_webhook
from .config import ZendeskConfig, ZendeskSession
from .inbound import agent_messages, agent_profile
from .media import MediaUnavailable, download
from .models import (
    DELIVERY_KEY,
    CommentInput,
    Requester,
    Ticket,
    TicketInput,
    UserInput,
    ZendeskSubscription,
    zendesk_id,
)
from .outbound import OutgoingComment, compose
from .runtime import DEFAULT_RUNTIME, ZendeskRuntime
from .webhooks import INVOCATION_HEADER, TriggerPayload, parse_payload, verify

log = logging.getLogger(__name__)
MAX_PHOTO_URL = 255
CLOSED_STATUSES = frozenset({"closed"})


class ZendeskAdapter(HelpdeskAdapter[ZendeskConfig, ZendeskSession]):
    """Zendesk Support tickets, with signed webhooks and real attachments."""

    name: ClassVar[str] = "zendesk"
    title: ClassVar[str] = "Zendesk"
    config_model = ZendeskConfig
    session_model = ZendeskSession
    entity_name: ClassVar[str] = "hitlTicket"
    states = {subs.STATE_NAME: ZendeskSubscription}

    def __init__(self, config: ZendeskConfig, context: AdapterContext) -> None:
        super().__init__(config, context)
        problem = config.base_url_problem(custom_allowed=context.env.allow_vendor_base_urls)
        if problem is not None:
            raise AdapterConfigError(*problem)
        backend = context.backend
        self.runtime = backend if isinstance(backend, ZendeskRuntime) else DEFAULT_RUNTIME
        self.client = self._client(self.runtime.policy)
        self.comment_client = self._client(self.runtime.comment_policy)

    def _client(self, policy: Any) -> ZendeskClient:
        return ZendeskClient(
            self.context.env.http,
            self.config.api_base_url,
            _authorization(self.config),
            policy=policy,
            sleep=self.runtime.sleep,
        )

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> ZendeskConfig:
        """Validate the configuration, including that exactly one auth method is complete."""
        config = super().parse_config(raw)
        problem = config.auth_problem()
        if problem is not None:
            raise AdapterConfigError(*problem)
        return config

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        """One :class:`ZendeskRuntime` (outbox, sent cache, guarded media client) for the whole process."""
        async with guarded_client() as media_http:
            yield ZendeskRuntime(media_http=media_http)

    async def subscribe(self, webhook_url: str) -> None:
        """Replace any previous subscription: webhook + signing secret, bot user, three triggers."""
        previous = await subs.load(self.context)
        if previous is not None:
            await subs.remove(self.client, previous, strict=False)
            await subs.save(self.context, None)
        await subs.create(self.client, self.context, webhook_url, self.config.ignore_non_hitl_tickets)

    async def unsubscribe(self, webhook_url: str) -> None:
        """Delete the triggers and the webhook; what is already gone is fine. The bot user stays."""
        previous = await subs.load(self.context)
        if previous is not None:
            await subs.remove(self.client, previous, strict=True)
            await subs.save(self.context, None)

    async def create_user(self, request: ExternalUserRequest) -> str:
        """``users/create_or_update`` an end-user whose external_id is the Botpress user id."""
        user = await self.client.create_or_update_user(
            UserInput(
                name=request.name,
                email=request.email,
                external_id=request.bp_user_id,
                remote_photo_url=_photo_url(request.picture_url),
                skip_verify_email=True,
            )
        )
        return str(user.id)

    async def open_session(self, request: OpenSessionRequest[ZendeskSession]) -> str:
        """Open one ticket per idempotency key (see the module docstring)."""
        key_tag = subs.idempotency_tag(request.idempotency_key)
        existing = await self._find_ticket(key_tag)
        if existing is not None:
            return str(existing.id)
        created = await self.client.create_ticket(self._ticket(request, key_tag))
        return str(created.ticket.id)

    async def _find_ticket(self, key_tag: str) -> Ticket | None:
        for ticket in await self.client.list_tickets_by_external_id(key_tag):
            if key_tag in ticket.tags:
                return ticket
        found = await self.client.search_tickets(f"tags:{key_tag}")
        return found[0] if found else None

    def _ticket(self, request: OpenSessionRequest[ZendeskSession], key_tag: str) -> TicketInput:
        options, user = request.options, request.end_user
        requester = None
        if options.requester_name or options.requester_email:
            name = options.requester_name or user.name or options.requester_email or "Customer"
            requester = Requester(name=name, email=options.requester_email)
        tags = [*self.config.tags, *options.tags, subs.marker_tag(self.context.installation.webhook_id), key_tag]
        return TicketInput(
            subject=request.title or f"Conversation with {user.name or 'a customer'}",
            comment=CommentInput(
                html_body=_opening_html(request),
                public=options.transcript_visibility == "public",
                author_id=None if requester else zendesk_id(user.external_user_id, "users"),
            ),
            requester=requester,
            requester_id=None if requester else zendesk_id(user.external_user_id, "users"),
            priority=options.priority,
            type=options.type,
            tags=list(dict.fromkeys(tags)),
            group_id=options.group_id,
            assignee_email=options.assignee_email,
            ticket_form_id=options.ticket_form_id,
            custom_fields=[field.model_dump() for field in options.custom_fields] or None,
            external_id=key_tag,
        )

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        """Set the ticket's external_id to the Botpress conversation id."""
        await self.client.update_ticket(
            zendesk_id(external_session_id, "tickets"), TicketInput(external_id=bp_conversation_id)
        )

    async def close_session(self, external_session_id: str) -> None:
        """Move the ticket to ``closeStatus``; a missing, closed or already-there ticket is left alone."""
        try:
            ticket_id = zendesk_id(external_session_id, "tickets")
            ticket = await self.client.show_ticket(ticket_id)
            if ticket.status in CLOSED_STATUSES or ticket.status == self.config.close_status:
                return
            await self.client.update_ticket(ticket_id, TicketInput(status=self.config.close_status))
        except ExternalNotFoundError:
            log.info("zendesk ticket %r is gone; nothing to close", external_session_id)

    async def send_message(self, request: OutboundMessage) -> str:
        """One public comment per message (a bloc included); bursts are coalesced per ticket."""
        sent = self.runtime.sent.get(request.bp_message_id)
        if sent is not None:
            return sent
        author_id = await self._author_id(request.author_external_id)
        comment = await compose(request.message, author_id, self._upload)
        ticket_id = zendesk_id(request.external_session_id, "tickets")
        comment_id = await self.runtime.outbox.submit(ticket_id, comment, self._deliver)
        self.runtime.sent.put(request.bp_message_id, comment_id)
        return comment_id

    async def _author_id(self, author_external_id: str | None) -> int:
        if author_external_id:
            return zendesk_id(author_external_id, "users")
        stored = await subs.load(self.context)
        if stored is not None and stored.bot_zendesk_user_id is not None:
            return stored.bot_zendesk_user_id
        bot = await self.client.create_or_update_user(
            UserInput(
                name=subs.BOT_USER_NAME, external_id=self.context.installation.bot_user_id, skip_verify_email=True
            )
        )
        return bot.id

    async def _upload(self, kind: str, url: str, title: str | None) -> str | None:
        try:
            rules = self.runtime.download_rules(allow_private=self.context.env.allow_vendor_base_urls)
            media = await download(self.context.env.http, url, kind=kind, title=title, rules=rules)
        except MediaUnavailable as exc:
            log.warning("zendesk: sending a %s as a link: %s", kind, exc)
            return None
        try:
            upload = await self.client.upload(media.filename, media.content, media.content_type)
        except ExternalRequestError as exc:
            # Zendesk refused the file (type, size, ...): the message still goes, as a labelled link.
            log.warning("zendesk: upload refused, sending the %s as a link: %s", kind, exc)
            return None
        except OutcomeUnknownError as exc:
            # Not repeated (nothing to look an upload up by); an upload no comment attaches is never shown.
            log.warning("zendesk: upload answer lost, sending the %s as a link: %s", kind, exc)
            return None
        return upload.token

    async def _deliver(self, ticket_id: int, comment: OutgoingComment) -> str:
        # The key lets the client find this comment again if the answer to its update is lost (see docs/writes.md).
        update = TicketInput(
            comment=CommentInput(
                body=comment.body, public=True, author_id=comment.author_id, uploads=list(comment.uploads) or None
            ),
            metadata={DELIVERY_KEY: secrets.token_hex(12)},
        )
        result = await self.comment_client.update_ticket(ticket_id, update)
        comment_id = result.audit.comment_id() if result.audit else None
        return str(comment_id) if comment_id is not None else f"audit:{result.audit.id if result.audit else ''}"

    async def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the HMAC signature against the secret stored at register, and the 5-minute window."""
        stored = await subs.load(self.context)
        if stored is None or not stored.signing_secret:
            raise InvalidSignatureError("no Zendesk signing secret: register the integration first")
        headers = {key.lower(): value for key, value in request.headers.items()}
        verify(stored.signing_secret, headers, request.body or "", self.runtime.clock())

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Agent comments, assignment and solve, read back from the API; foreign payloads give nothing."""
        payload = parse_payload(request.body)
        stored = await subs.load(self.context)
        if payload is None or stored is None or payload.marker != stored.marker_tag:
            return WebhookResult()
        invocation = {k.lower(): v for k, v in request.headers.items()}.get(INVOCATION_HEADER)
        try:
            events = await self._events(payload, stored, invocation)
        except ExternalNotFoundError:
            events = []  # the ticket was deleted meanwhile
        return WebhookResult(events=events)

    async def _events(
        self, payload: TriggerPayload, stored: ZendeskSubscription, invocation: str | None
    ) -> list[InboundEvent]:
        ticket_id = payload.ticket_id
        if payload.event == "assigned":
            return await self._assignment(ticket_id, invocation)
        recent = await comments_for_webhook(self.client, ticket_id, payload.comment_id)
        events: list[InboundEvent] = list(agent_messages(ticket_id, recent, stored.bot_zendesk_user_id))
        if payload.event == "solved":
            ticket = await self.client.show_ticket(ticket_id)
            key = invocation or f"closed:{ticket_id}:{ticket.updated_at}"
            events.append(SessionClosed(external_session_id=str(ticket_id), dedupe_key=key, reason=ticket.status))
        return events

    async def _assignment(self, ticket_id: int, invocation: str | None) -> list[InboundEvent]:
        ticket = await self.client.show_ticket(ticket_id)
        if ticket.assignee_id is None:
            return []  # un-assignment: no agent to announce
        agent = await self.client.show_user(ticket.assignee_id)
        key = invocation or f"assigned:{ticket_id}:{ticket.assignee_id}:{ticket.updated_at}"
        return [AgentAssigned(external_session_id=str(ticket_id), dedupe_key=key, agent=agent_profile(agent))]


def _authorization(config: ZendeskConfig) -> str:
    if config.access_token is not None:
        return f"Bearer {config.access_token.get_secret_value()}"
    api_token = config.api_token.get_secret_value() if config.api_token else ""
    raw = f"{config.email}/token:{api_token}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _photo_url(url: str | None) -> str | None:
    """Zendesk rejects a ``remote_photo_url`` over 255 characters (URL-encoded): drop it, with a warning."""
    if url and len(quote(url, safe=":/?#[]@!$&'()*+,;=-._~%")) > MAX_PHOTO_URL:
        log.warning("zendesk: picture URL over %d characters dropped", MAX_PHOTO_URL)
        return None
    return url or None


def _opening_html(request: OpenSessionRequest[ZendeskSession]) -> str:
    chatbot = request.options.chatbot_name or "Botpress"
    description = (request.description or "").strip() or f"Someone opened a ticket using your {chatbot} chatbot."
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in description.split("\n") if line.strip())
    transcript = request.transcript.html.strip()
    return f"{paragraphs}<hr>{transcript}" if transcript else paragraphs
