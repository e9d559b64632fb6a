"""Live events across workers: each is fanned out to this process's consoles at once, and published through the
coordinator for the other workers' consoles (PostgreSQL ``LISTEN/NOTIFY``).

A published envelope says which process sent it (so the sender does not show it twice), the event's type and
audience, and either its data or, when that would pass the coordinator's size limit, a reference (a message, a
session, a note) that the receiving worker reads from the shared store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from coordination import Coordinator

from .realtime import Hub, LiveEvent

logger = logging.getLogger(__name__)
CHANNEL = "inbox-live"
MAX_ENVELOPE_BYTES = 7000
"""The coordinator's limit on one message (PostgreSQL's NOTIFY payload is at most 8,000 bytes)."""
Resolver = Callable[[str, str], Awaitable[dict[str, Any] | None]]
"""Reads the data of a referenced event: ``(kind, id)`` to the event's data, or ``None`` if it is gone."""


def _reference(event: LiveEvent) -> tuple[str, str] | None:
    """What a too-large event stands for: its message, session or note."""
    if event.type == "message" or event.type == "note":
        return event.type, str(event.data["id"])
    if "session" in event.data:
        return "session", str(event.data["session"]["id"])
    return None


class LiveRelay:
    """Publishes live events to the local hub and to every other worker, and feeds the hub what they publish."""

    def __init__(self, hub: Hub, coordinator: Coordinator | None, resolve: Resolver) -> None:
        self._hub = hub
        self._coordinator = coordinator
        self._resolve = resolve
        self.origin = uuid.uuid4().hex
        """This process's id in the envelopes it sends."""
        self.listening = asyncio.Event()
        """Set once :meth:`run` listens: a test (or a start-up) waits for it before it expects remote events."""

    async def publish(self, event: LiveEvent) -> None:
        """Show the event on this process's consoles now, then send it to the other workers (if any)."""
        self._hub.publish(event)
        if self._coordinator is None:
            return
        envelope = self._envelope(event)
        if envelope is None:
            logger.warning("live %s event too large to share with other workers; only this worker shows it", event.type)
            return
        try:
            await self._coordinator.publish(CHANNEL, envelope)
        except Exception:  # the change is committed; a lost live event costs a console refresh, not the write
            logger.exception("live %s event not shared with other workers", event.type)

    def _envelope(self, event: LiveEvent) -> str | None:
        audience = None if event.audience is None else sorted(event.audience)
        head = {"origin": self.origin, "type": event.type, "audience": audience}
        full = json.dumps({**head, "data": event.data}, separators=(",", ":"))
        if len(full.encode()) <= MAX_ENVELOPE_BYTES:
            return full
        reference = _reference(event)
        small = json.dumps({**head, "ref": reference}, separators=(",", ":")) if reference else None
        return small if small is not None and len(small.encode()) <= MAX_ENVELOPE_BYTES else None

    async def run(self) -> None:
        """Feed the local hub with the other workers' events until cancelled (nothing to do without a coordinator)."""
        if self._coordinator is None:
            self.listening.set()
            return
        async with self._coordinator.subscribe(CHANNEL) as messages:
            self.listening.set()
            async for message in messages:
                try:
                    await self._receive(message)
                except Exception:  # one bad envelope must not end the feed
                    logger.exception("live event from another worker not shown")

    async def _receive(self, message: str) -> None:
        envelope = json.loads(message)
        if envelope["origin"] == self.origin:
            return
        data = envelope.get("data")
        if data is None and envelope.get("ref"):
            kind, ref = envelope["ref"]
            data = await self._resolve(kind, ref)
        if data is None:
            return
        audience = envelope["audience"]
        self._hub.publish(LiveEvent(envelope["type"], data, None if audience is None else frozenset(audience)))
