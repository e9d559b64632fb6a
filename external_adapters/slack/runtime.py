"""Process-wide state of the Slack adapter: the retry policies, the store of agents' files (and what every
adapter's runtime holds: :class:`~external_adapters.vendor_runtime.VendorRuntime`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..http_retry import RetryPolicy
from ..vendor_runtime import VendorRuntime
from .files_in import MAX_FILE_BYTES, FileStore

# Slack answers 429 with Retry-After (chat.postMessage: about one message per second per channel); 429 and 502
# mean Slack did not act, so any call may repeat them. Posts wait longer for their turn than reads.
DEFAULT_POLICY = RetryPolicy()
POST_POLICY = RetryPolicy(attempts=6, max_wait=60.0)


@dataclass
class SlackRuntime(VendorRuntime):
    """Shared by every request of the process (the adapter's ``lifespan`` backend); see :class:`VendorRuntime`.

    Media downloads are not limited in number here (no ``download_slots``).
    """

    policy: RetryPolicy = DEFAULT_POLICY
    post_policy: RetryPolicy = POST_POLICY
    files: FileStore | None = None
    """Agents' files re-served at signed URLs (:mod:`.files_in`); ``None`` without a lifespan: files become notices."""
    max_file_bytes: int = MAX_FILE_BYTES
    """The largest agent file re-served (option ``max_file_bytes``)."""


DEFAULT_RUNTIME = SlackRuntime()
"""Used when the integration built the adapter without running its lifespan (tools, scripts)."""
