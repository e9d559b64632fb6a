"""The Zendesk Support adapter: one ticket per hitl session, agents answer from Zendesk.

Design notes (the why; the how is in docs/zendesk.md):

* Retry-safe ``open_session``: one ticket per idempotency key, found again by its ``hitl_req_`` tag
  (:mod:`.tickets`), under a lock and a journal entry of the coordination port (:mod:`.guards`), so two workers
  racing, or a retry after a crash between the create and its record, never open a second one.
* Every comment carries the Botpress message ids it delivers in its audit's custom metadata, so
  :meth:`ZendeskAdapter.find_message` settles a delivery whose outcome is unknown; deliveries to one ticket hold
  its lock across workers.
* Webhooks carry ids only; comments, users and tickets are read back through the API.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
    OutcomeUnknownError,
)
from ..guarded_http import guarded_client
from ..media_download import MediaUnavailable, download
from . import guards, marks, subscription as subs
from .client import ZendeskClient
from .config import ZendeskConfig, ZendeskSession
from .inbound import webhook_events
from .models import (
    MESSAGES_KEY,
    CommentInput,
    TicketInput,
    UserInput,
    ZendeskSubscription,
    messages_value,
    zendesk_id,
)
from .outbound import OutgoingComment, compose
from .runtime import DEFAULT_RUNTIME, ZendeskRuntime
from .tickets import find_ticket, ticket_input
from .webhooks import INVOCATION_HEADER, parse_payload

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
        """One :class:`ZendeskRuntime` (outbox, guarded media client) for the whole process."""
        async with guarded_client() as media_http:
            yield ZendeskRuntime(media_http=media_http)

    def _lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self.context.env.coordinator.lock(key)

    async def subscribe(self, webhook_url: str) -> None:
        """Replace any previous subscription: webhook + signing secret, bot user, three triggers.

        Under the installation's lock, so two workers registering at once run one after the other: the second
        replaces what the first made, and one webhook with its three triggers is left. This process's cached
        copy follows each step; another worker's notices the new secret on its next delivery.
        """
        cache = self.runtime.subscriptions
        async with self._lock(guards.subscribe_key(self.context.installation.webhook_id)):
            previous, _ = await cache.get(self.context, fresh=True)
            if previous is not None:
                await subs.remove(self.client, previous, strict=False)
                await subs.save(self.context, None)
            cache.put(self.context, None)
            created = await subs.create(self.client, self.context, webhook_url, self.config.ignore_non_hitl_tickets)
            cache.put(self.context, created)

    async def unsubscribe(self, webhook_url: str) -> None:
        """Delete the triggers and the webhook; what is already gone is fine. The bot user stays."""
        cache = self.runtime.subscriptions
        async with self._lock(guards.subscribe_key(self.context.installation.webhook_id)):
            previous, _ = await cache.get(self.context, fresh=True)
            if previous is not None:
                await subs.remove(self.client, previous, strict=True)
                await subs.save(self.context, None)
                cache.put(self.context, None)

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
        """Open one ticket per idempotency key, across workers and crashes (see the module docstring).

        Retry-safe: under the key's lock, the journal's record answers once the ticket was recorded; otherwise the
        ticket is looked up by its key tag first (unless ``request.new_key``: no ticket can carry a key minted by
        this very call), and the create itself is checked by external_id after a lost answer
        (:meth:`ZendeskClient.create_ticket`).
        """
        key_tag = subs.idempotency_tag(request.idempotency_key)
        marker = subs.marker_tag(self.context.installation.webhook_id)

        async def find() -> str | None:
            if request.new_key:
                return None
            found = await find_ticket(self.client, key_tag)
            return str(found.id) if found is not None else None

        async def create() -> str:
            created = await self.client.create_ticket(ticket_input(request, self.config, marker, key_tag))
            return str(created.ticket.id)

        return await guards.once(self.context.env.coordinator, guards.open_key(key_tag), find, create)

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
        """One public comment per message (a bloc included); bursts are coalesced per ticket.

        Not idempotent by itself: the core's journal keeps a delivered message from being sent twice, and settles
        one whose outcome is unknown with :meth:`find_message` first. A lost answer within this call is checked
        by the message ids the comment carries (:meth:`ZendeskClient.update_ticket`).
        """
        author_id = await self._author_id(request.author_external_id)
        comment = await compose(request.message, author_id, self._upload, request.bp_message_id)
        ticket_id = zendesk_id(request.external_session_id, "tickets")
        return await self.runtime.outbox.submit(ticket_id, comment, self._deliver, self._ticket_lock)

    def _ticket_lock(self, zendesk_ticket_id: int) -> AbstractAsyncContextManager[None]:
        return self._lock(guards.ticket_key(zendesk_ticket_id))

    async def find_message(self, request: OutboundMessage) -> str | None:
        """The id of the comment that delivered ``request.bp_message_id``, or ``None`` if no comment did.

        Reads the ticket's newest audits (the first page and the last two: 100 to 200 audits, both ends of the
        list) for one whose custom metadata lists the message id; a message older than that is not found. A
        ticket that is gone holds no comment: ``None``.
        """
        try:
            ticket_id = zendesk_id(request.external_session_id, "tickets")
            audit = await self.client.find_delivery(ticket_id, lambda ids: request.bp_message_id in ids)
        except ExternalNotFoundError:
            return None
        return audit.comment_ref() if audit is not None else None

    async def _author_id(self, author_external_id: str | None) -> int:
        if author_external_id:
            return zendesk_id(author_external_id, "users")
        stored, _ = await self.runtime.subscriptions.get(self.context)
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
        # The message ids find the comment again after a lost answer or a crash (see docs/writes.md).
        update = TicketInput(
            comment=CommentInput(
                body=comment.body, public=True, author_id=comment.author_id, uploads=list(comment.uploads) or None
            ),
            metadata={MESSAGES_KEY: messages_value(comment.bp_message_ids)},
        )
        result = await self.comment_client.update_ticket(ticket_id, update)
        return result.audit.comment_ref() if result.audit else "audit:"

    async def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the HMAC signature against the secret stored at register, and the 5-minute window (the secret
        is this process's cached copy, read again once when it fails: :meth:`.subscription.Subscriptions.verify`),
        over the body's exact bytes as Zendesk signed them (``body_bytes``)."""
        headers = {key.lower(): value for key, value in request.headers.items()}
        await self.runtime.subscriptions.verify(self.context, headers, request.body_bytes, self.runtime.clock())

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Agent comments newer than the ticket's mark, assignment and solve, read back from the API (the
        checkpoint: the newest comment read, see :mod:`.marks`); foreign payloads give nothing."""
        payload = parse_payload(request.body)
        stored = await self.runtime.subscriptions.marked(self.context, payload.marker if payload else None)
        if payload is None or stored is None:
            return WebhookResult()
        invocation = {k.lower(): v for k, v in request.headers.items()}.get(INVOCATION_HEADER)
        coordinator, webhook_id = self.context.env.coordinator, self.context.installation.webhook_id
        applied = await marks.applied(coordinator, webhook_id, payload.ticket_id)
        try:
            events, newest = await webhook_events(self.client, payload, stored.bot_zendesk_user_id, invocation, applied)
        except ExternalNotFoundError:
            return WebhookResult()  # the ticket was deleted meanwhile
        point = marks.checkpoint(payload.ticket_id, newest) if newest is not None else None
        return WebhookResult(events=events, checkpoint=point)

    async def webhook_applied(self, result: WebhookResult) -> None:
        """Every event of ``result`` is in Botpress: move the ticket's mark to the newest comment it read."""
        if result.checkpoint is not None:
            await marks.advance(self.context.env.coordinator, self.context.installation.webhook_id, result.checkpoint)


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
