"""Process-wide state of the Zendesk adapter: the retry policies, the per-ticket outbox, the download slots (and
what every adapter's runtime holds: :class:`~external_adapters.vendor_runtime.VendorRuntime`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..http_retry import RetryPolicy
from ..media_download import MAX_CONCURRENT_DOWNLOADS
from ..vendor_runtime import VendorRuntime
from .outbound import Outbox
from .stored import Subscriptions

# Zendesk did not act on a request it answered 429, 502 or 503 ("unavailable, retry after"): any call may repeat.
NOT_ACTED_STATUSES = frozenset({429, 502, 503})
DEFAULT_POLICY = RetryPolicy(retry_statuses_any_method=NOT_ACTED_STATUSES)
# Ticket updates are rate limited per ticket and user: wait longer for them than for other calls.
COMMENT_POLICY = RetryPolicy(attempts=6, max_wait=60.0, retry_statuses_any_method=NOT_ACTED_STATUSES)


@dataclass
class ZendeskRuntime(VendorRuntime):
    """Shared by every request of the process (the adapter's ``lifespan`` backend); see :class:`VendorRuntime`."""

    policy: RetryPolicy = DEFAULT_POLICY
    comment_policy: RetryPolicy = COMMENT_POLICY
    download_slots: asyncio.Semaphore | None = field(
        default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_DOWNLOADS)
    )
    """Shared by every media download of the process (see :mod:`external_adapters.media_download`)."""
    outbox: Outbox = field(default_factory=Outbox)
    """Coalesces each ticket's bursts in this process; the coordinator's ticket lock orders them across workers."""
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    """Each installation's ``zendeskSubscription``, read once per process (see :class:`.stored.Subscriptions`)."""


DEFAULT_RUNTIME = ZendeskRuntime()
"""Used when the integration built the adapter without running its lifespan (tools, scripts)."""
