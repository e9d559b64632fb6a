"""Process-wide state of the Zendesk adapter: the per-ticket outbox, clocks, the media client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from ..http_retry import RetryPolicy
from ..media_download import MAX_CONCURRENT_DOWNLOADS, MAX_MEDIA_BYTES, MEDIA_TIMEOUT_SECONDS, DownloadRules
from ..url_guard import Resolver, resolve_host
from .outbound import Outbox
from .stored import Subscriptions

# Zendesk did not act on a request it answered 429, 502 or 503 ("unavailable, retry after"): any call may repeat.
NOT_ACTED_STATUSES = frozenset({429, 502, 503})
DEFAULT_POLICY = RetryPolicy(retry_statuses_any_method=NOT_ACTED_STATUSES)
# Ticket updates are rate limited per ticket and user: wait longer for them than for other calls.
COMMENT_POLICY = RetryPolicy(attempts=6, max_wait=60.0, retry_statuses_any_method=NOT_ACTED_STATUSES)


@dataclass
class ZendeskRuntime:
    """Shared by every request of the process (the adapter's ``lifespan`` backend).

    Tests swap ``sleep`` for a no-op, ``clock`` for a fixed time and ``resolve`` for a fixed DNS.
    """

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    policy: RetryPolicy = DEFAULT_POLICY
    comment_policy: RetryPolicy = COMMENT_POLICY
    max_media_bytes: int = MAX_MEDIA_BYTES
    media_time_limit: float = MEDIA_TIMEOUT_SECONDS
    resolve: Resolver = resolve_host
    download_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_DOWNLOADS))
    """Shared by every media download of the process (see :mod:`external_adapters.media_download`)."""
    media_http: httpx.AsyncClient | None = None
    """The process-wide guarded client for media downloads (made and closed by the adapter's ``lifespan``)."""
    outbox: Outbox = field(default_factory=Outbox)
    """Coalesces each ticket's bursts in this process; the coordinator's ticket lock orders them across workers."""
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    """Each installation's ``zendeskSubscription``, read once per process (see :class:`.stored.Subscriptions`)."""

    def download_rules(self, *, allow_private: bool) -> DownloadRules:
        """The bounds of a media download; ``allow_private`` comes from the adapter's environment."""
        return DownloadRules(
            max_bytes=self.max_media_bytes,
            time_limit=self.media_time_limit,
            allow_private=allow_private,
            resolve=self.resolve,
            slots=self.download_slots,
            guarded_http=self.media_http,
        )


DEFAULT_RUNTIME = ZendeskRuntime()
"""Used when the integration built the adapter without running its lifespan (tools, scripts)."""
