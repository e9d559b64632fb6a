"""The Slack adapter: one thread per hitl session in a support channel, claimed and closed with buttons.

Design notes (the why; the how is in docs/slack.md):

* A session is the parent message the bridge posts: its id is ``"<channel_id>:<parent_ts>"``.
* Every message the bridge posts carries Slack message metadata naming what it delivers (the idempotency key,
  the Botpress message id, the transcript part), and every post is made under a journal entry of the coordination
  port: a post whose answer was lost, or a process killed between the post and its record, is found again by its
  metadata before anything is posted twice.
* What the adapter knows of a session (channel, parent, claim, closed) lives in ``context.sessions``.
* Deliveries from Slack (events, button clicks) are handled by :mod:`.inbound`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

from ..base import (
    AdapterContext,
    AdapterEnvironment,
    ExternalUserRequest,
    HelpdeskAdapter,
    OpenSessionRequest,
    OutboundMessage,
    WebhookAck,
    WebhookRequest,
    WebhookResult,
)
from ..errors import AdapterConfigError
from ..guarded_http import guarded_client
from . import inbound
from .client import SLACK_FILE_HOSTS, SlackClient
from .config import SlackConfig, SlackSession
from .files_in import FileOptions, open_files
from .runtime import DEFAULT_RUNTIME, SlackRuntime

END_USER_PREFIX = "bp:"


class SlackAdapter(HelpdeskAdapter[SlackConfig, SlackSession]):
    """Handoffs as Slack threads, with Claim and Close buttons and real files both ways."""

    name: ClassVar[str] = "slack"
    title: ClassVar[str] = "Slack"
    config_model = SlackConfig
    session_model = SlackSession
    entity_name: ClassVar[str] = "hitlSession"

    def __init__(self, config: SlackConfig, context: AdapterContext) -> None:
        super().__init__(config, context)
        problem = config.base_url_problem(custom_allowed=context.env.allow_vendor_base_urls)
        if problem is not None:
            raise AdapterConfigError(*problem)
        backend = context.backend
        self.runtime = backend if isinstance(backend, SlackRuntime) else DEFAULT_RUNTIME
        self.client = self._client(post=False)
        self.post_client = self._client(post=True)

    def _client(self, *, post: bool) -> SlackClient:
        # A vendor base URL other than Slack's (allowed by the process) serves its files from its own host.
        custom = self.config.api_base_url is not None
        return SlackClient(
            self.context.env.http,
            self.config.api_url,
            self.config.bot_token.get_secret_value(),
            policy=self.runtime.post_policy if post else self.runtime.policy,
            sleep=self.runtime.sleep,
            file_hosts=None if custom else SLACK_FILE_HOSTS,
        )

    @classmethod
    @asynccontextmanager
    async def lifespan(cls, env: AdapterEnvironment) -> AsyncIterator[object | None]:
        """One :class:`SlackRuntime` (the guarded media client, the store of agents' files) for the whole process."""
        options = FileOptions.parse(env.options)
        async with guarded_client() as media_http, open_files(env.database, env.data_dir, options) as files:
            yield SlackRuntime(media_http=media_http, files=files, max_file_bytes=options.max_file_bytes)

    async def subscribe(self, webhook_url: str) -> None:
        """Check the token and that the bot can post in ``channelId`` (joining it when public)."""
        raise NotImplementedError

    async def unsubscribe(self, webhook_url: str) -> None:
        """Nothing to undo: the Request URL lives in the Slack app's settings, not behind an API."""

    async def create_user(self, request: ExternalUserRequest) -> str:
        """``bp:<bp_user_id>``: Slack has no end-user accounts, so there is nothing to create (no call)."""
        return END_USER_PREFIX + request.bp_user_id

    async def open_session(self, request: OpenSessionRequest[SlackSession]) -> str:
        """Post the handoff's parent message (and its transcript); return ``"<channel_id>:<parent_ts>"``."""
        raise NotImplementedError

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        """Record the Botpress conversation id in the session data."""
        raise NotImplementedError

    async def close_session(self, external_session_id: str) -> None:
        """Post the closing notice once and show the parent closed."""
        raise NotImplementedError

    async def send_message(self, request: OutboundMessage) -> str:
        """Post one end-user message into the thread; return its Slack ``ts``."""
        raise NotImplementedError

    async def find_message(self, request: OutboundMessage) -> str | None:
        """The ``ts`` of the thread message carrying ``request.bp_message_id`` in its metadata, or ``None``."""
        raise NotImplementedError

    async def verify_webhook(self, request: WebhookRequest) -> None:
        """See :func:`.inbound.verify_webhook`."""
        await inbound.verify_webhook(self, request)

    async def acknowledge_webhook(self, request: WebhookRequest) -> WebhookAck | None:
        """See :func:`.inbound.acknowledge_webhook`."""
        return await inbound.acknowledge_webhook(self, request)

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        """See :func:`.inbound.parse_webhook`."""
        return await inbound.parse_webhook(self, request)

    async def webhook_applied(self, result: WebhookResult) -> None:
        """See :func:`.inbound.webhook_applied`."""
        await inbound.webhook_applied(self, result)
