"""The inbox as a helpdesk adapter: Botpress operations go into :class:`~.service.InboxService`, and the
signed events it sends come back (relayed by Botpress as ``webhook_received``) as neutral events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pydantic import ValidationError

from bp_modules.hitl import parse_hitl_payload
from coordination import Coordinator, Database
from external_adapters import safe_json
from external_adapters.base import (
    AdapterEnvironment,
    ExternalUserRequest,
    HelpdeskAdapter,
    OpenSessionRequest,
    OutboundMessage,
    Transcript,
    WebhookReply,
    WebhookRequest,
    WebhookResult,
)
from external_adapters.errors import (
    AdapterConfigError,
    ExternalNotFoundError,
    InvalidSignatureError,
    InvalidWebhookError,
    UnavailableError,
)
from external_adapters.events import AgentAssigned, AgentMessage, AgentProfile, InboundEvent, SessionClosed

from .config import InboxConfig, InboxOptions, InboxSession
from .errors import NotFound
from .intake import ContactInfo, NewSession, installation_key
from .service import InboxService, running_service

T = TypeVar("T")


def parse_options(raw: Any) -> InboxOptions:
    """Validate the process options. Raises :class:`AdapterConfigError` naming the field."""
    try:
        return InboxOptions.model_validate(dict(raw or {}))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise AdapterConfigError(f"adapter_options.inbox.{where}", error["msg"]) from None


def _history(transcript: Transcript) -> list[tuple[str, str, dict[str, Any]]]:
    rows: list[tuple[str, str, dict[str, Any]]] = [
        (m.source.type, m.type, m.payload.model_dump(mode="json", by_alias=True, exclude_none=True))
        for m in transcript.messages
    ]
    if transcript.omitted:
        marker = f"… {transcript.omitted} message{'s' if transcript.omitted > 1 else ''} omitted …"
        rows.insert(transcript.omitted_at, ("bot", "text", {"text": marker}))
    return rows


class InboxAdapter(HelpdeskAdapter[InboxConfig, InboxSession]):
    """The built-in inbox: a helpdesk inside hitl-bridge, with its agent console at ``/console``."""

    name = "inbox"
    title = "Built-in inbox"
    config_model = InboxConfig
    session_model = InboxSession
    entity_name = "hitlInboxSession"

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        """Open the inbox database, create the first admin, and run the delivery, live and timeout workers.

        On the bridge's shared database and coordinator when it has them (PostgreSQL, several workers), else on the
        inbox's own SQLite file in the data dir."""
        options = parse_options(env.options)
        database, coordinator = _shared(env)
        async with running_service(
            options.data_dir or env.data_dir, options, env.http, database=database, coordinator=coordinator
        ) as service:
            yield service

    @property
    def service(self) -> InboxService:
        """The process's inbox service."""
        backend = self.context.backend
        if not isinstance(backend, InboxService):
            raise UnavailableError("inbox", "-", "service", None, "the inbox service is not running in this process")
        return backend

    @property
    def _installation_id(self) -> str:
        installation = self.context.installation
        return installation_key(installation.bot_id, installation.integration_id)

    async def subscribe(self, webhook_url: str) -> None:
        """Record the webhook URL the inbox posts its events to (idempotent)."""
        i = self.context.installation
        await self.service.intake.subscribe(i.bot_id, i.integration_id, i.webhook_id, webhook_url)

    async def unsubscribe(self, webhook_url: str) -> None:
        """Forget the webhook URL; tolerates an installation that never subscribed."""
        await self.service.intake.unsubscribe(
            self.context.installation.bot_id, self.context.installation.integration_id
        )

    async def create_user(self, request: ExternalUserRequest) -> str:
        """Find or create the contact for a Botpress user; return the contact id."""
        info = ContactInfo(bp_user_id=request.bp_user_id, name=request.name, email=request.email)
        return await self.service.intake.upsert_contact(info)

    async def open_session(self, request: OpenSessionRequest[InboxSession]) -> str:
        """Open a session (once per idempotency key), store the redacted transcript and start routing."""
        options, user = request.options, request.end_user
        contact_id = await self.service.intake.upsert_contact(
            ContactInfo(
                bp_user_id=user.bp_user_id,
                name=options.contact_name or user.name,
                email=options.contact_email or user.email,
                phone=options.contact_phone,
            )
        )
        return await self.service.intake.open_session(
            NewSession(
                installation_id=self._installation_id,
                contact_id=contact_id,
                idempotency_key=request.idempotency_key,
                options=options,
                title=request.title,
                description=request.description,
                language=options.language or self.config.language,
                extra_rule_tags=self.config.default_rule_tags,
                transcript=_history(request.transcript),
            )
        )

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        """Record the Botpress conversation; the session's queued events may now be delivered."""
        await self._found(
            lambda: self.service.intake.link(external_session_id, bp_conversation_id), external_session_id
        )

    async def close_session(self, external_session_id: str) -> None:
        """Close the session (the bot stopped it). Closing a closed or missing session does nothing."""
        await self.service.intake.close_by_bot(external_session_id)

    async def send_message(self, request: OutboundMessage) -> str:
        """Store the end user's message (redacted, once per Botpress message id) and show it live."""
        payload = request.message.model_dump(mode="json", by_alias=True, exclude_none=True)
        return await self._found(
            lambda: self.service.intake.add_user_message(
                request.external_session_id, request.bp_message_id, request.message.message_type, payload
            ),
            request.external_session_id,
        )

    async def find_message(self, request: OutboundMessage) -> str | None:
        """The inbox message stored for ``request.bp_message_id`` in its session, or ``None``: the inbox's own store
        answers whether an earlier, unacknowledged :meth:`send_message` happened."""
        return await self.service.intake.find_message(request.external_session_id, request.bp_message_id)

    async def _found(self, call: Callable[[], Awaitable[T]], session_id: str) -> T:
        try:
            return await call()
        except NotFound:
            raise ExternalNotFoundError("inbox", "-", f"sessions/{session_id}", 404, "no such session") from None

    async def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the HMAC signature and timestamp the inbox put on its own event, over the body's exact bytes."""
        i = self.context.installation
        reason = await self.service.intake.verify(i.bot_id, i.integration_id, dict(request.headers), request.body_bytes)
        if reason is not None:
            raise InvalidSignatureError(f"inbox webhook refused: {reason}")

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Turn an inbox event into neutral events; unknown event types give none.

        Every inbox session is one the bridge opened, so an event whose Botpress conversation is gone (deleted, or
        another bot's data) is answered 404 (``unknown_reply``): the inbox's outbox then shows the message as
        failed, with the reason, instead of retrying it for ever."""
        try:
            body = safe_json.loads(request.body or "")
        except ValueError:
            raise InvalidWebhookError("inbox webhook body is not JSON") from None
        if not isinstance(body, dict):
            raise InvalidWebhookError("inbox webhook body is not an object")
        try:
            events = _events(body)
        except (KeyError, TypeError, ValidationError) as exc:
            raise InvalidWebhookError(f"inbox webhook of type {body.get('type')!r} is malformed: {exc}") from None
        return WebhookResult(events=events, unknown_reply=FORGOTTEN)


def _shared(env: AdapterEnvironment) -> tuple[Database | None, Coordinator | None]:
    """The bridge's shared database and coordinator when several workers share them (PostgreSQL); embedded, neither:
    the inbox keeps its own file and, being the only process, needs no one to coordinate with."""
    if env.database is None or not env.coordinator.multi_process:
        return None, None
    return env.database, env.coordinator


FORGOTTEN = WebhookReply(
    status=404,
    headers={"Content-Type": "application/json"},
    body='{"error": "Botpress no longer knows this conversation"}',
)
"""The reply to an event of a session whose Botpress conversation is gone."""


def _agent(body: dict[str, Any]) -> AgentProfile:
    agent = body["agent"]
    return AgentProfile(external_user_id=str(agent["id"]), name=agent.get("name"), email=agent.get("email"))


def _events(body: dict[str, Any]) -> list[InboundEvent]:
    kind, session_id, key = body.get("type"), str(body.get("sessionId", "")), body.get("id")
    if kind == "agent_message":
        message = body["message"]
        return [
            AgentMessage(
                external_session_id=session_id,
                dedupe_key=key,
                external_message_id=str(body["messageId"]),
                agent=_agent(body),
                message=parse_hitl_payload(message["type"], message["payload"]),
            )
        ]
    if kind == "agent_assigned":
        return [AgentAssigned(external_session_id=session_id, dedupe_key=key, agent=_agent(body))]
    if kind == "session_closed":
        return [SessionClosed(external_session_id=session_id, dedupe_key=key, reason=body.get("reason"))]
    return []
