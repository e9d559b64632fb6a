"""What every helpdesk adapter's process-wide runtime holds: clocks, the DNS, and the bounds of media downloads.

Each adapter's runtime (the backend its ``lifespan`` yields) extends :class:`VendorRuntime` with its own retry
policies and stores; tests swap ``sleep`` for a no-op, ``clock`` for a fixed time and ``resolve`` for a fixed DNS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from .media_download import MAX_MEDIA_BYTES, MEDIA_TIMEOUT_SECONDS, DownloadRules
from .url_guard import Resolver, resolve_host


@dataclass
class VendorRuntime:
    """Shared by every request of the process: clocks, the resolver and the media download's client and bounds."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    max_media_bytes: int = MAX_MEDIA_BYTES
    """The largest end-user file the adapter uploads; a larger one is posted as a link."""
    media_time_limit: float = MEDIA_TIMEOUT_SECONDS
    resolve: Resolver = resolve_host
    download_slots: asyncio.Semaphore | None = None
    """Shared by every media download of the process when the adapter limits them (none: no limit)."""
    media_http: httpx.AsyncClient | None = None
    """The process-wide guarded client for media downloads (made and closed by the adapter's ``lifespan``)."""

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
