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

import logging
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
from ..errors import AdapterConfigError, ExternalNotFoundError, SessionOptionsError
from ..guarded_http import guarded_client
from . import inbound, outbound, sessions, subscription, threads
from .client import SLACK_FILE_HOSTS, SlackClient
from .config import SlackConfig, SlackSession
from .files_in import FileOptions, open_files
from .outbound import Sender
from .runtime import DEFAULT_RUNTIME, SlackRuntime
from .threads import Opening

log = logging.getLogger(__name__)
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

    def sender(self) -> Sender:
        """What posting into this installation's threads needs (the post client, the journal, media rules)."""
        env, runtime = self.context.env, self.runtime
        rules = runtime.download_rules(allow_private=env.allow_vendor_base_urls)
        return Sender(
            self.post_client,
            env.coordinator,
            self.context.installation.integration_id,
            env.http,
            rules,
            self.config.post_as_end_user,
        )

    async def subscribe(self, webhook_url: str) -> None:
        """Check the token (``auth.test``) and that the bot can post in ``channelId`` and each of
        ``allowedChannelIds`` (``conversations.info``; ``conversations.join`` for a public channel it is not in).
        Only reads and an idempotent join: repeatable. The bot's identity is remembered for the inbound side.

        Raises:
            AdapterConfigError: naming ``botToken`` (refused) or ``channelId`` (the bot cannot post there).
        """
        await subscription.check(self.client, self.config, self.context)

    async def unsubscribe(self, webhook_url: str) -> None:
        """Nothing to undo: the Request URL lives in the Slack app's settings (its manifest), not behind an API,
        and leaving the channel would break other installations of the same app."""

    async def create_user(self, request: ExternalUserRequest) -> str:
        """``bp:<bp_user_id>``: Slack has no end-user accounts, so there is nothing to create (no call)."""
        return END_USER_PREFIX + request.bp_user_id

    async def open_session(self, request: OpenSessionRequest[SlackSession]) -> str:
        """Post the handoff's parent in ``channelId`` (or the card's allowed ``channelId``), then the transcript's
        overflow in its thread; return ``"<channel_id>:<parent_ts>"``.

        Retry-safe and crash-safe: each post is made once per idempotency key (the journal, then the metadata
        ``hitl_bridge_session``/``hitl_bridge_transcript`` read back from Slack: :mod:`.threads`).

        Raises:
            SessionOptionsError: the card's channelId is neither channelId nor in allowedChannelIds.
        """
        channel_id = self.config.channel_for(request.options)
        if channel_id is None:
            raise SessionOptionsError("channelId", "must be the installation's channelId or one of allowedChannelIds")
        opening = Opening(channel_id=channel_id, mention=self.config.mention)
        return await threads.open_thread(self.sender(), self.context.sessions, opening, request)

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        """Record the Botpress conversation id in the session data (no Slack call; an idempotent change)."""
        await self.context.sessions.update(external_session_id, sessions.linked(bp_conversation_id))

    async def close_session(self, external_session_id: str) -> None:
        """Post "The conversation was closed from the bot." in the thread once, and show the parent closed (no
        buttons). A closed, missing or foreign session is a no-op. Retry-safe: the notice is journalled and found by
        its metadata; the parent's edit is idempotent; "closed" is recorded last."""
        if sessions.parse_session_id(external_session_id) is None:
            log.info("slack: %r is not a Slack session id; nothing to close", external_session_id)
            return
        await threads.close_thread(self.sender(), self.context.sessions, external_session_id)

    async def send_message(self, request: OutboundMessage) -> str:
        """Post the message into the thread (text as mrkdwn, media as real files, a bloc as one message then its
        files); return the Slack ``ts`` of its first part.

        Retry-safe: each part is journalled and found again by its metadata or file id (:mod:`.outbound`), so a
        repeat posts only the parts that are missing.

        Raises:
            ExternalNotFoundError: the session id is not a Slack thread (nothing was posted).
        """
        return await outbound.deliver(self.sender(), self._thread(request.external_session_id), request)

    async def find_message(self, request: OutboundMessage) -> str | None:
        """The ``ts`` of the message's first part when every part is in the thread (``conversations.replies`` with
        ``include_all_metadata``: the ``hitl_bridge_message`` metadata, or the remembered file id), else ``None``.
        A thread that is gone holds nothing: ``None``."""
        try:
            return await outbound.find_delivered(self.sender(), self._thread(request.external_session_id), request)
        except ExternalNotFoundError:
            return None

    def _thread(self, external_session_id: str) -> outbound.Thread:
        where = sessions.parse_session_id(external_session_id)
        if where is None:
            raise ExternalNotFoundError("slack", "-", "session", None, "not a Slack session id")
        return outbound.Thread(channel_id=where[0], parent_ts=where[1])

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
