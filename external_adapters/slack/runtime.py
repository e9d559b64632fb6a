"""Process-wide state of the Slack adapter: the retry policy, clocks, the guarded media client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from ..http_retry import RetryPolicy
from ..media_download import MAX_MEDIA_BYTES, MEDIA_TIMEOUT_SECONDS
from ..url_guard import Resolver, resolve_host
from .files_in import MAX_FILE_BYTES, FileStore

# Slack answers 429 with Retry-After (chat.postMessage: about one message per second per channel); 429 and 502
# mean Slack did not act, so any call may repeat them. Posts wait longer for their turn than reads.
DEFAULT_POLICY = RetryPolicy()
POST_POLICY = RetryPolicy(attempts=6, max_wait=60.0)


@dataclass
class SlackRuntime:
    """Shared by every request of the process (the adapter's ``lifespan`` backend).

    Tests swap ``sleep`` for a no-op, ``clock`` for a fixed time and ``resolve`` for a fixed DNS.
    """

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    policy: RetryPolicy = DEFAULT_POLICY
    post_policy: RetryPolicy = POST_POLICY
    max_media_bytes: int = MAX_MEDIA_BYTES
    """The largest end-user file the bridge uploads to Slack; a larger one is posted as a link."""
    media_time_limit: float = MEDIA_TIMEOUT_SECONDS
    resolve: Resolver = resolve_host
    media_http: httpx.AsyncClient | None = None
    """The process-wide guarded client for end-user media downloads (made and closed by the ``lifespan``)."""
    files: FileStore | None = None
    """Agents' files re-served at signed URLs (:mod:`.files_in`); ``None`` without a lifespan: files become notices."""
    max_file_bytes: int = MAX_FILE_BYTES
    """The largest agent file re-served (option ``max_file_bytes``)."""


DEFAULT_RUNTIME = SlackRuntime()
"""Used when the integration built the adapter without running its lifespan (tools, scripts)."""
