"""In-process publish/subscribe: the service publishes, console connections subscribe."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 256


@dataclass(frozen=True)
class LiveEvent:
    """Something agents should see now. ``audience`` limits it to some agent ids; ``None`` means everyone."""

    type: str
    data: dict[str, Any]
    audience: frozenset[str] | None = None

    def for_agent(self, agent_id: str) -> bool:
        """Whether the agent is in the audience."""
        return self.audience is None or agent_id in self.audience


@dataclass(eq=False)
class Subscription:
    """One agent's live feed. A slow reader loses its oldest events rather than blocking the service."""

    agent_id: str
    queue: asyncio.Queue[LiveEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, event: LiveEvent) -> None:
        """Queue the event, dropping the oldest one when full."""
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(event)


class Hub:
    """Fans live events out to the subscriptions whose agent is in the audience."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def publish(self, event: LiveEvent) -> None:
        """Deliver the event to every interested subscription, without waiting."""
        for subscription in list(self._subscriptions):
            if event.for_agent(subscription.agent_id):
                subscription.offer(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, agent_id: str) -> AsyncIterator[Subscription]:
        """A subscription for the duration of the block."""
        subscription = Subscription(agent_id)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        """How many feeds are open."""
        return len(self._subscriptions)
