"""Keeping the journal small: old entries are dropped by one worker, now and then."""

from __future__ import annotations

import asyncio
import logging

from ._port import Coordinator

log = logging.getLogger(__name__)
PURGE_LEADER = "coordination-purge"
"""The leadership under which one worker of a backend purges."""


async def purge_forever(coordinator: Coordinator, *, keep_seconds: float, every_seconds: float = 3600.0) -> None:
    """Purge what is older than ``keep_seconds`` every ``every_seconds``, on the backend's one leader, until cancelled.

    A dropped entry only matters to a redelivery that comes back later than ``keep_seconds`` (Botpress retries for
    minutes, not days), which is then treated as new; a failed pass is logged and tried again at the next one.
    """

    async def passes() -> None:
        while True:
            try:
                dropped = await coordinator.purge(keep_seconds)
                log.info("coordination: purged %d old journal, claim and memo entries", dropped)
            except Exception:  # a failed pass must not end the housekeeping
                log.exception("coordination: purge failed; trying again in %.0fs", every_seconds)
            await asyncio.sleep(every_seconds)

    await coordinator.lead(PURGE_LEADER, passes)
