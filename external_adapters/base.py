"""The adapter contract: what a helpdesk adapter implements and what it is given.

An adapter translates the neutral hitl operations (create a user, open a session, send a message,
close it) into one helpdesk's API, and that helpdesk's webhooks into neutral events
(:mod:`external_adapters.events`). It knows nothing of aiohttp, of the Botpress transport, or of
other adapters. The integration builds one adapter instance per incoming request, from the
installation's configuration, and shares process-wide resources through :class:`AdapterEnvironment`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from bp_modules.hitl import HistoryMessage, HitlMessage
from coordination import Coordinator, Database

from .errors import AdapterConfigError, SessionOptionsError
from .events import InboundEvent

ConfigT = TypeVar("ConfigT", bound=BaseModel)
SessionT = TypeVar("SessionT", bound=BaseModel)


@dataclass(frozen=True)
class Installation:
    """Which bot installation a request belongs to (from the ``x-bot-*`` / ``x-integration-*`` headers)."""

    bot_id: str
    bot_user_id: str
    integration_id: str
    integration_alias: str
    webhook_id: str


class StateStore(Protocol):
    """Per-installation storage for the adapter's declared states (Botpress integration state)."""

    async def get(self, name: str) -> dict[str, JsonValue] | None:
        """Return the payload stored under ``name``, or ``None`` when there is none."""
        ...

    async def set(self, name: str, payload: dict[str, JsonValue] | None) -> None:
        """Store ``payload`` under ``name``; ``None`` clears it."""
        ...


@dataclass(frozen=True)
class AdapterEnvironment:
    """Process-wide resources, created once at start-up and shared by every request."""

    http: httpx.AsyncClient
    data_dir: Path
    coordinator: Coordinator
    """Locks, claims, the delivery journal, memo and notifications shared by every process of the bridge."""
    database: Database | None = None
    """The shared PostgreSQL database (``HITL_BRIDGE_DATABASE_URL``), where an adapter keeps its tables; ``None``
    with the embedded backend, where an adapter with tables opens its own SQLite file under ``data_dir``."""
    options: Mapping[str, Any] = field(default_factory=dict)
    public_url: str | None = None
    allow_vendor_base_urls: bool = False
    """``HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS``: honour vendor URLs from an installation's configuration (other than
    the vendor's own), and fetch URLs that resolve to private, loopback or link-local addresses. Off, an adapter
    refuses both (:mod:`external_adapters.url_guard` does the address check)."""


SessionDataChange = Callable[[dict[str, JsonValue] | None], dict[str, JsonValue] | None]
"""A change of one session's adapter data: given what is stored (``None``: nothing yet), return what to store
(``None``: drop it). It must be a pure function of its argument: it may run again."""


class SessionDataStore(Protocol):
    """Per-session adapter data, kept in the coordination store: shared by every worker, durable, one record per
    helpdesk session, each changed atomically (a read-modify-write under the session's lock across workers)."""

    async def get(self, external_session_id: str) -> dict[str, JsonValue] | None:
        """The session's data, or ``None`` when there is none."""
        ...

    async def update(self, external_session_id: str, change: SessionDataChange) -> dict[str, JsonValue] | None:
        """Apply ``change`` to the session's data atomically across workers, and return what is stored now."""
        ...


@dataclass(frozen=True)
class AdapterContext:
    """What one adapter instance is given for the request it serves."""

    installation: Installation
    state: StateStore
    env: AdapterEnvironment
    backend: object | None = None

    @property
    def sessions(self) -> SessionDataStore:
        """This installation's per-session adapter data (:class:`SessionDataStore`), in ``env.coordinator``."""
        from .session_data import CoordinatorSessionData

        return CoordinatorSessionData(self.env.coordinator, self.installation)


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class ExternalUserRequest(_Request):
    """Create or update the helpdesk user that stands for a Botpress user."""

    bp_user_id: str
    name: str
    email: str | None = None
    picture_url: str | None = None


class Transcript(_Request):
    """The condensed ``messageHistory``, rendered three ways, plus the messages it was made from."""

    text: str
    markdown: str
    html: str
    messages: list[HistoryMessage] = Field(default_factory=list)
    omitted: int = Field(default=0, description="How many history messages were left out to fit the budget")
    omitted_at: int = Field(default=0, description="Index in ``messages`` where the omitted ones would stand")


class EndUser(_Request):
    """The end user a session is opened for."""

    bp_user_id: str
    external_user_id: str
    name: str | None = None
    email: str | None = None
    picture_url: str | None = None


class OpenSessionRequest(_Request, Generic[SessionT]):
    """Open a helpdesk session (ticket, conversation...) for an end user."""

    end_user: EndUser
    title: str | None = None
    description: str | None = None
    options: SessionT
    transcript: Transcript
    idempotency_key: str = Field(description="Same for a retried startHitl: open at most one session per key")
    new_key: bool = Field(
        default=False,
        description="The key was minted by this very call and no earlier attempt had it, so no session can exist "
        "for it yet: an adapter may skip looking one up (a retry, or a resumed record, sends False)",
    )


class AuthorDisplay(_Request):
    """How the author of an outbound message looks, for a helpdesk that shows it (Slack's ``username``/``icon_url``)."""

    name: str | None = None
    picture_url: str | None = None


class OutboundMessage(_Request):
    """A hitl channel message to deliver into a session."""

    external_session_id: str
    author_external_id: str | None = Field(description="Helpdesk id of the author, or None for a system message")
    author: AuthorDisplay | None = Field(
        default=None, description="The author's name and picture as Botpress knows them; None when unknown"
    )
    message: HitlMessage
    bp_message_id: str = Field(description="Idempotency key: a redelivered message carries the same id")


class WebhookRequest(_Request):
    """A request a helpdesk made to our webhook URL, as the Botpress runtime relays it."""

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = Field(default_factory=dict)
    body: str | None = None

    @property
    def body_bytes(self) -> bytes:
        """The body's exact bytes, as the vendor sent and signed them: check signatures on these, never on a
        re-encoding of parsed JSON. (The runtime relays the body as text; a vendor's UTF-8 comes back unchanged.)"""
        return (self.body or "").encode("utf-8", errors="surrogatepass")


class WebhookReply(_Request):
    """What goes back to the helpdesk."""

    status: int = 200
    headers: Mapping[str, str] = Field(default_factory=dict)
    body: str | None = None


class WebhookResult(_Request):
    """The neutral events a webhook carried, and the reply the helpdesk expects."""

    events: list[InboundEvent] = Field(default_factory=list)
    reply: WebhookReply = Field(default_factory=WebhookReply)
    checkpoint: str | None = Field(
        default=None,
        description="The adapter's own progress marker, opaque to the core: handed back through "
        "HelpdeskAdapter.webhook_applied once every event is applied",
    )
    unknown_reply: WebhookReply | None = Field(
        default=None,
        description="The reply instead of ``reply`` when an event's session has no Botpress conversation. ``None`` "
        "(the default) answers ``reply`` anyway: a helpdesk's webhooks also carry tickets that are not ours. An "
        "adapter whose every session is the bridge's (the inbox) refuses, so its sender learns that Botpress "
        "forgot the conversation instead of retrying for ever",
    )


class WebhookAck(_Request):
    """Answer the vendor now and do the work afterwards, durably (for vendors with a short deadline: Slack's 3 s).

    The integration stores the request in the coordination store's work queue before it answers ``reply``; a
    worker (this process, or another one after a crash) then runs :meth:`HelpdeskAdapter.parse_webhook`, applies
    the events and calls :meth:`HelpdeskAdapter.webhook_applied`, retrying a failure with a growing delay.
    """

    reply: WebhookReply = Field(default_factory=WebhookReply)
    work_key: str | None = Field(
        default=None,
        description="The delivery's stable id (Slack's event_id): a request whose key is already queued or done is "
        "answered and dropped. None: there is nothing to do after the reply (a url_verification)",
    )
    order_key: str | None = Field(
        default=None,
        description="Requests with one order key (a thread) are processed one at a time, in the order they came",
    )


class HelpdeskAdapter(ABC, Generic[ConfigT, SessionT]):
    """Base class of every helpdesk adapter.

    Subclasses set the class variables, implement the abstract methods, and register themselves
    under the ``hitl_bridge.adapters`` entry-point group.
    """

    name: ClassVar[str]
    """Registry name, e.g. ``"zendesk"``."""
    title: ClassVar[str]
    """Human title, shown in the definition."""
    config_model: ClassVar[type[BaseModel]]
    """Per-installation configuration (decoded from ``x-bp-configuration``)."""
    session_model: ClassVar[type[BaseModel]]
    """The ``hitlSession`` entity: the Studio card parameters."""
    entity_name: ClassVar[str] = "hitlSession"
    """The name under which the entity is declared, e.g. ``"hitlTicket"``."""
    states: ClassVar[Mapping[str, type[BaseModel]]] = {}
    """Integration states the adapter reads and writes through :attr:`AdapterContext.state`."""

    def __init__(self, config: ConfigT, context: AdapterContext) -> None:
        self.config = config
        self.context = context

    @classmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> ConfigT:
        """Validate the installation's configuration.

        Raises:
            AdapterConfigError: naming the first invalid field.
        """
        try:
            return cls.config_model.model_validate(dict(raw))  # type: ignore[return-value]
        except ValidationError as exc:
            field_name, message = _first_error(exc)
            raise AdapterConfigError(field_name, message) from None

    @classmethod
    def parse_session_options(cls, raw: Mapping[str, Any] | None) -> SessionT:
        """Validate a ``hitlSession`` card.

        Raises:
            SessionOptionsError: naming the first invalid field.
        """
        try:
            return cls.session_model.model_validate(dict(raw or {}))  # type: ignore[return-value]
        except ValidationError as exc:
            field_name, message = _first_error(exc)
            raise SessionOptionsError(field_name, message) from None

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        """Run process-wide resources (a database, a worker...); yield what requests get as ``backend``."""
        yield None

    @abstractmethod
    async def subscribe(self, webhook_url: str) -> None:
        """Set the helpdesk up to call ``webhook_url`` (Botpress ``register``). Must be idempotent."""

    @abstractmethod
    async def unsubscribe(self, webhook_url: str) -> None:
        """Remove what :meth:`subscribe` created, tolerating what is already gone (``unregister``)."""

    @abstractmethod
    async def create_user(self, request: ExternalUserRequest) -> str:
        """Create or update the helpdesk user for a Botpress user; return its helpdesk id. Idempotent."""

    @abstractmethod
    async def open_session(self, request: OpenSessionRequest[SessionT]) -> str:
        """Open a session and return its helpdesk id. At most one session per ``idempotency_key``.

        Across processes and crashes too: the key must be kept where the session is (a ticket field, a unique
        column of a store on disk), and looked up before anything is created, so that a call repeated by a new
        process after a kill -9 finds the session the first call opened. The integration never calls this twice
        at once for one key (it holds the user's start lock).
        """

    @abstractmethod
    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        """Record the Botpress conversation id on the helpdesk side (e.g. a ticket's external_id)."""

    @abstractmethod
    async def close_session(self, external_session_id: str) -> None:
        """Close the session. Closing a closed or missing session is a no-op."""

    @abstractmethod
    async def send_message(self, request: OutboundMessage) -> str:
        """Deliver a message into the session; return the helpdesk's message id.

        The integration writes its intent to the delivery journal before calling this, and calls it again for
        the same ``bp_message_id`` only after :meth:`find_message` said the message never arrived. Raise
        :class:`~external_adapters.errors.ExternalRequestError` only when nothing was delivered (the journal then
        forgets the attempt); any other failure leaves the outcome unknown and is settled by :meth:`find_message`.
        """

    async def find_message(self, request: OutboundMessage) -> str | None:
        """The helpdesk id of the message this request delivered before, or None if it never arrived.

        Called when an earlier :meth:`send_message` of the same ``request.bp_message_id`` has an unknown outcome:
        its answer was lost, or the process died before recording it. Return the id that call returned (or would
        have), read from what the helpdesk stores (not from process memory: this may be another process), and
        consistent at once after the write (no search index). ``None`` makes the integration send it again.

        The default knows nothing and returns ``None``: an adapter that cannot look its messages up delivers at
        least once (a crash between the helpdesk's write and the journal's gives a duplicate). Override it.
        """
        return None

    @abstractmethod
    async def verify_webhook(self, request: WebhookRequest) -> None:
        """Check the webhook's authenticity.

        Raises:
            InvalidSignatureError: the request is not from the helpdesk.
        """

    @abstractmethod
    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Turn a verified webhook into neutral events. Unknown or foreign payloads give no events."""

    async def acknowledge_webhook(self, request: WebhookRequest) -> WebhookAck | None:
        """Called after :meth:`verify_webhook`: return a :class:`WebhookAck` to answer at once and have the work
        done after the reply, durably; ``None`` (the default) processes the request before answering. Keep it
        free of upstream calls: it runs within the vendor's deadline."""
        return None

    async def webhook_applied(self, result: WebhookResult) -> None:
        """Called once every event of ``result`` (from :meth:`parse_webhook`) is applied in Botpress, or known to
        be; never when one failed, nor when the session is not one of ours. An adapter that reads its events
        back from the helpdesk records here how far it got (``result.checkpoint``), so its next delivery reads
        only what is newer. A crash before this call makes the redelivery yield the same events again: the core's
        dedup (each message's get-or-create on its tag) absorbs them. The default does nothing.
        """

    async def aclose(self) -> None:
        """Release per-instance resources."""


def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "(root)"
    return location, error["msg"]
