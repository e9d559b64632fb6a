"""Answering first: a webhook the adapter acknowledges (:class:`WebhookAck`) is queued, then answered at once.

The queued payload is what any worker needs to redo the operation later: the operation context (the installation,
its configuration, the trace headers) and the :class:`WebhookRequest`. The configuration holds the installation's
secrets, so the payload is dropped when the item is done and never logged (docs/adapters.md, "Answering first").
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from coordination import Coordinator, work_queue_of
from external_adapters import Installation, WebhookAck, WebhookRequest

from ..context import OperationContext
from ..services import Deps

log = logging.getLogger(__name__)
WAKE_CHANNEL = "hitl-bridge.work-queue"
"""Published on after each put, so that a waiting worker (of any process) takes the item at once."""
PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class DeferredWebhook:
    """A queued webhook, decoded: the context to rebuild the operation's Deps with, and the request."""

    ctx: OperationContext
    request: WebhookRequest


def queue_keys(ctx: OperationContext, ack: WebhookAck) -> tuple[str, str]:
    """The queue's key and order key of an acknowledged delivery, scoped by bot and integration (two installations
    may see the same vendor ids); a delivery without an order key is ordered by nothing but itself."""
    assert ack.work_key is not None
    scope = f"{ctx.installation.bot_id}:{ctx.installation.integration_id}"
    order_key = ack.order_key if ack.order_key is not None else f"key:{ack.work_key}"
    return f"webhook:{scope}:{ack.work_key}", f"webhook:{scope}:{order_key}"


async def enqueue(deps: Deps, request: WebhookRequest, ack: WebhookAck) -> bool:
    """Store the delivery in the work queue before the vendor is answered; ``False`` if its work key was seen.

    Retry-safe: the put is keyed by the scoped work key (``INSERT ... ON CONFLICT DO NOTHING``), so a vendor's
    redelivery, or a retry of this operation after a lost answer, queues nothing more. Crash-safe: the put is
    committed before the reply goes; a crash after it leaves the item for the next worker.
    """
    key, order_key = queue_keys(deps.ctx, ack)
    coordinator = deps.services.coordinator
    queued = await work_queue_of(coordinator).queue_put(key, order_key, encode(deps.ctx, request))
    if queued:
        await _wake(coordinator)
    else:
        log.info("webhook delivery %s is queued or done already: dropped", key)
    return queued


async def _wake(coordinator: Coordinator) -> None:
    try:
        await coordinator.publish(WAKE_CHANNEL, "put")
    except Exception as exc:  # the item is stored: a worker's next poll takes it, so the reply must not fail
        log.warning("work queue: could not wake the workers (%s); the next poll takes the item", type(exc).__name__)


def encode(ctx: OperationContext, request: WebhookRequest) -> str:
    """The queue payload of a delivery (JSON; it holds the configuration's secrets)."""
    context = {
        "operation": ctx.operation,
        "installation": asdict(ctx.installation),
        "configuration": ctx.configuration,
        "configuration_type": ctx.configuration_type,
        "trace_headers": dict(ctx.trace_headers),
    }
    return json.dumps({"v": PAYLOAD_VERSION, "context": context, "request": request.model_dump(mode="json")})


def decode(payload: str) -> DeferredWebhook:
    """Read a payload :func:`encode` wrote.

    Raises:
        ValueError: it is not such a payload (another version, or damaged).
    """
    data: Any = json.loads(payload)
    if not isinstance(data, dict) or data.get("v") != PAYLOAD_VERSION:
        raise ValueError("not a queued webhook of this version")
    try:
        context = data["context"]
        ctx = OperationContext(
            operation=context["operation"],
            installation=Installation(**context["installation"]),
            configuration=context["configuration"],
            configuration_type=context["configuration_type"],
            trace_headers=context["trace_headers"],
        )
        return DeferredWebhook(ctx, WebhookRequest.model_validate(data["request"]))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a damaged queued webhook ({type(exc).__name__})") from None
