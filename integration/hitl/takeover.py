"""Helpdesk events wait until the HITL plugin has taken the session (hitl-behaviour.md §2.1 steps 12-14).

The plugin makes a downstream conversation its own only after ``startHitl`` has answered: it tags it
``upstream`` (on the wire with its alias, ``hitl#upstream``), then sets ``hitlActive``. Until then it drops
whatever the integration emits for that conversation: a ``hitlStopped`` (a session nobody can take ends at
once, and the user stays stuck in handoff mode), a ``hitlAssigned``, an agent message.

So an event for a conversation that does not carry the tag yet waits, re-reading the conversation with a
growing delay, until the tag shows up or the conversation is ``plugin_takeover_wait_seconds`` old (by its
``createdAt``; never longer than that from now, whatever the clocks say). Then it is applied anyway: a bot
without the plugin never tags, and an event is never dropped here. Conversations older than the bound never
wait, and a tagged one costs no extra call. The copy an event starts from may be the memo's, made before the tag
(startHitl keeps the conversation as it created it): a young untagged copy is read again once before any wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ..botpress import Conversation
from ..services import Deps

log = logging.getLogger(__name__)

UPSTREAM_TAG = "upstream"
FIRST_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 1.0
Sleep = Callable[[float], Awaitable[None]]
_sleep: Sleep = asyncio.sleep  # looked up at each call, so tests can stand in for time


def taken_by_plugin(conversation: Conversation) -> bool:
    """Whether the plugin has linked this downstream conversation to its upstream one (tag ``<alias>#upstream``)."""
    return any(key == UPSTREAM_TAG or key.endswith(f"#{UPSTREAM_TAG}") for key in conversation.tags)


def wait_budget(conversation: Conversation, bound_seconds: float, now: float) -> float:
    """How long an event for ``conversation`` may still wait: what is left of the bound since its creation."""
    age = now - conversation.created_at.timestamp()
    return max(0.0, min(bound_seconds, bound_seconds - age))


async def wait_for_plugin(deps: Deps, conversation: Conversation) -> Conversation:
    """Return once the plugin has taken ``conversation``, or once its wait budget is spent (the latest read)."""
    budget = wait_budget(conversation, deps.services.settings.plugin_takeover_wait_seconds, time.time())
    if taken_by_plugin(conversation) or budget <= 0:
        return conversation
    # The copy may be the memo's, taken before the plugin tagged it: read it again before waiting at all.
    conversation = await deps.botpress.get_conversation(conversation.id) or conversation
    if taken_by_plugin(conversation):
        return conversation
    log.info("holding events of %s until the HITL plugin takes it (at most %.1fs)", conversation.id, budget)
    waited, delay = 0.0, FIRST_DELAY_SECONDS
    while waited < budget:
        step = min(delay, budget - waited)
        await _sleep(step)
        waited, delay = waited + step, min(delay * 2, MAX_DELAY_SECONDS)
        conversation = await deps.botpress.get_conversation(conversation.id) or conversation
        if taken_by_plugin(conversation):
            return conversation
    log.warning("the HITL plugin never tagged %s within %.1fs; applying its events anyway", conversation.id, budget)
    return conversation
