"""Framework-free dispatch of Botpress operations (``x-bp-operation``) to their handlers."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from external_adapters import safe_json

from .context import OperationContext, context_from_headers
from .errors import ForbiddenError, InvalidPayloadError, error_response
from .hitl import actions, channel, inbound, setup
from .hitl.validation import validate
from .services import Deps, Services

log = logging.getLogger(__name__)


class Operation(StrEnum):
    """Every operation the SDK's integration server knows."""

    REGISTER = "register"
    UNREGISTER = "unregister"
    PING = "ping"
    ACTION_TRIGGERED = "action_triggered"
    MESSAGE_CREATED = "message_created"
    MESSAGE_UPDATED = "message_updated"
    CONVERSATION_UPDATED = "conversation_updated"
    WEBHOOK_RECEIVED = "webhook_received"
    CREATE_USER = "create_user"
    CREATE_CONVERSATION = "create_conversation"


@dataclass(frozen=True)
class OperationRequest:
    """A request as the runtime sent it: lower-cased headers and the raw body."""

    headers: Mapping[str, str]
    body: str | None


@dataclass(frozen=True)
class OperationResponse:
    """What goes back to the runtime."""

    status: int = 200
    body: str = "{}"
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Deps, Any], Awaitable[OperationResponse]]
ACTIONS: Mapping[str, Callable[[Deps, Any], Awaitable[dict[str, Any]]]] = {
    "createUser": actions.create_user,
    "startHitl": actions.start_hitl,
    "stopHitl": actions.stop_hitl,
}


class Dispatcher:
    """Answers operations exactly as the Botpress SDK's integration server does."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def dispatch(self, request: OperationRequest) -> OperationResponse:
        """Decode the context, run the operation, and map any failure to the SDK's response."""
        ctx: OperationContext | None = None
        try:
            ctx = context_from_headers(request.headers)
            self._check_bot(ctx)
            return await self._run(ctx, request.body)
        except Exception as exc:  # every failure becomes the SDK's response, never a traceback
            return _failure(exc, ctx)

    def _check_bot(self, ctx: OperationContext) -> None:
        allowed = self.services.settings.allowed_bot_ids
        if allowed and ctx.installation.bot_id not in allowed:
            raise ForbiddenError(f"bot {ctx.installation.bot_id} is not served here")

    async def _run(self, ctx: OperationContext, raw_body: str | None) -> OperationResponse:
        try:
            operation = Operation(ctx.operation)
        except ValueError:
            raise InvalidPayloadError(f"Unknown operation {ctx.operation}") from None
        if operation is Operation.PING:
            return OperationResponse()
        body = parse_body(raw_body)
        if operation in _NO_ADAPTER:
            return await _NO_ADAPTER[operation](body)
        async with self.services.open_deps(ctx) as deps:
            return await _HANDLERS[operation](deps, body)


def parse_body(raw_body: str | None) -> Any:
    """``JSON.parse`` as the SDK does it: an empty, unparseable or too deeply nested body is InvalidPayload.

    Lone surrogates become U+FFFD here, as Node makes them when it writes the text on (see :mod:`safe_json`).
    """
    if not raw_body:
        raise InvalidPayloadError("Missing body")
    try:
        return safe_json.loads(raw_body)
    except ValueError as exc:
        raise InvalidPayloadError(f"Invalid JSON body: {exc}") from None


def _failure(exc: Exception, ctx: OperationContext | None) -> OperationResponse:
    response = error_response(exc)
    where = f"{ctx.operation} for bot {ctx.installation.bot_id}" if ctx else "request"
    if response.status >= 500 and "id" in response.body:
        log.error("%s failed: %s", where, exc, exc_info=exc)
    else:
        log.warning("%s rejected (%s): %s", where, response.status, exc)
    return OperationResponse(status=response.status, body=json.dumps(response.body))


class _ActionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    input: Any = Field(default_factory=dict)


async def _action(deps: Deps, body: Any) -> OperationResponse:
    data = validate(_ActionBody, body, "body")
    if not data.type:
        raise InvalidPayloadError("Missing action type")
    interface_action = deps.services.settings.renames.interface_action(data.type)
    if interface_action is None:
        raise InvalidPayloadError(f"Action {data.type} not found")
    output = await ACTIONS[interface_action](deps, data.input)
    return OperationResponse(body=json.dumps({"output": output, "meta": {"cost": 0}}))


async def _message_created(deps: Deps, body: Any) -> OperationResponse:
    await channel.message_created(deps, body)
    return OperationResponse()


async def _webhook(deps: Deps, body: Any) -> OperationResponse:
    reply = await inbound.webhook_received(deps, body)
    return OperationResponse(status=reply.status, body=reply.body or "{}", headers=dict(reply.headers))


async def _register(deps: Deps, body: Any) -> OperationResponse:
    await setup.register(deps, body)
    return OperationResponse()


async def _unregister(deps: Deps, body: Any) -> OperationResponse:
    await setup.unregister(deps, body)
    return OperationResponse()


class _Tags(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tags: dict[str, str] = Field(default_factory=dict)


class _ConversationTags(_Tags):
    channel: str


async def _accept(model: type[BaseModel], body: Any) -> OperationResponse:
    # The hitl interface defines no handler for these legacy and change-notification operations:
    # like the SDK without a handler, answer 200 once the body is readable.
    validate(model, body, "body")
    return OperationResponse()


async def _legacy_user(body: Any) -> OperationResponse:
    return await _accept(_Tags, body)


async def _legacy_conversation(body: Any) -> OperationResponse:
    return await _accept(_ConversationTags, body)


async def _any_object(body: Any) -> OperationResponse:
    if not isinstance(body, dict):
        raise InvalidPayloadError("body: Input should be a JSON object")
    return OperationResponse()


_HANDLERS: Mapping[Operation, Handler] = {
    Operation.REGISTER: _register,
    Operation.UNREGISTER: _unregister,
    Operation.ACTION_TRIGGERED: _action,
    Operation.MESSAGE_CREATED: _message_created,
    Operation.WEBHOOK_RECEIVED: _webhook,
}
_NO_ADAPTER: Mapping[Operation, Callable[[Any], Awaitable[OperationResponse]]] = {
    Operation.MESSAGE_UPDATED: _any_object,
    Operation.CONVERSATION_UPDATED: _any_object,
    Operation.CREATE_USER: _legacy_user,
    Operation.CREATE_CONVERSATION: _legacy_conversation,
}
