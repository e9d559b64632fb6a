"""The runtime side of the emulated Botpress: it calls the integration the way the Botpress runtime does.

Every call is a ``POST`` to the integration's URL with the ``x-bp-*`` headers (operation, bot, bot user,
integration, alias, webhook, base64 JSON configuration) and a fresh ``traceparent``. Operations sent:
``register`` at start, ``action_triggered`` for the plugin's action calls, ``message_created`` for each message
the bot writes in a conversation of the integration, and ``webhook_received`` for each request to
``/webhook/<webhookId>/...``, whose answer is relayed to the caller.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from .runtime_api import Botpress
from .runtime_api.errors import error_response
from .store import Record

log = logging.getLogger(__name__)

_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive", "date", "server"}
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class IntegrationCallError(Exception):
    """The integration answered an operation with an error (or not at all)."""

    def __init__(self, operation: str, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{operation} -> {status} {error_type}: {message}")
        self.operation, self.status, self.error_type, self.message = operation, status, error_type, message


@dataclass
class Activity:
    """What the runtime did lately, shown on the sandbox page (newest last)."""

    entries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))
    registration: str = "pending"

    def add(self, operation: str, status: int | None, detail: str) -> None:
        """Record one call to the integration."""
        self.entries.append({"at": time.time(), "operation": operation, "status": status, "detail": detail})


class SandboxRuntime:
    """Calls the integration at ``integration_url`` on behalf of the sandbox's bot."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        botpress: Botpress,
        *,
        integration_url: str,
        webhook_base_url: str,
        configuration: dict[str, Any],
        configuration_type: str | None = None,
    ) -> None:
        self._http = http
        self._botpress = botpress
        self.identity = botpress.identity
        self.integration_url = integration_url
        self.webhook_url = f"{webhook_base_url.rstrip('/')}/webhook/{self.identity.webhook_id}"
        self._configuration = base64.b64encode(json.dumps(configuration).encode()).decode()
        self._configuration_type = configuration_type
        self.activity = Activity()

    def headers(self, operation: str) -> dict[str, str]:
        """The headers of one operation call."""
        identity = self.identity
        headers = {
            "content-type": "application/json",
            "x-bp-operation": operation,
            "x-bot-id": identity.bot_id,
            "x-bot-user-id": identity.bot_user_id,
            "x-integration-id": identity.integration_id,
            "x-integration-alias": identity.integration_alias,
            "x-webhook-id": identity.webhook_id,
            "x-bp-configuration": self._configuration,
            "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
        }
        if self._configuration_type is not None:
            headers["x-bp-configuration-type"] = self._configuration_type
        return headers

    async def send(self, operation: str, body: dict[str, Any]) -> httpx.Response:
        """POST one operation to the integration and return its raw answer."""
        content = json.dumps(body).encode()
        try:
            response = await self._http.post(self.integration_url, content=content, headers=self.headers(operation))
        except httpx.HTTPError as exc:
            self.activity.add(operation, None, f"unreachable: {type(exc).__name__}")
            raise IntegrationCallError(operation, 502, "Unavailable", f"{type(exc).__name__}: {exc}") from None
        self.activity.add(operation, response.status_code, _summary(body))
        return response

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send an operation; its JSON answer, or :class:`IntegrationCallError` for a non-2xx answer."""
        response = await self.send(operation, body)
        parsed = _json_object(response)
        if not response.is_success:
            message = str(parsed.get("message", response.text[:300]))
            raise IntegrationCallError(operation, response.status_code, str(parsed.get("type", "Unknown")), message)
        return parsed

    async def register(self) -> None:
        """Send ``register`` with this bot's webhook URL."""
        try:
            await self.call("register", {"webhookUrl": self.webhook_url})
        except IntegrationCallError as exc:
            self.activity.registration = f"failed: {exc.message}"
            log.error("sandbox: the integration refused register: %s", exc)
            return
        self.activity.registration = "registered"
        log.info("sandbox: integration registered (webhook URL %s)", self.webhook_url)

    async def register_when_listening(self, health_url: str, *, timeout_seconds: float = 60.0) -> None:
        """Wait until ``GET health_url`` answers 200 (the server is listening), then register."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            try:
                if (await self._http.get(health_url)).status_code == 200:
                    await self.register()
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        self.activity.registration = "failed: the server never answered GET /health"
        log.error("sandbox: %s never answered; register was not sent", health_url)

    async def call_action(self, action: str, input: dict[str, Any]) -> dict[str, Any]:
        """``action_triggered``: the action's ``output`` object."""
        answer = await self.call("action_triggered", {"type": action, "input": input})
        output = answer.get("output")
        if not isinstance(output, dict):
            raise IntegrationCallError("action_triggered", 200, "Unknown", f"{action}: the answer has no output object")
        return output

    async def send_message_created(self, message: Record, conversation: Record) -> None:
        """``message_created`` for a message the bot wrote in one of the integration's conversations."""
        user = await self._botpress.users.get(message["userId"])
        body = {
            "type": message["type"],
            "payload": message["payload"],
            "conversation": conversation,
            "message": message,
            "user": {key: value for key, value in user.items() if not key.startswith("_")},
        }
        try:
            await self.call("message_created", body)
        except IntegrationCallError as exc:
            log.warning("sandbox: the integration failed message_created for %s: %s", message["id"], exc)

    async def message_created(self, message: Record, conversation: Record, by_integration: bool) -> None:
        """Listener: relay the bot's messages in the integration's conversations to it."""
        if by_integration or message["direction"] != "outgoing":
            return
        if conversation["integration"] == self.identity.integration_alias:
            await self.send_message_created(message, conversation)

    async def event_created(self, event: Record, by_integration: bool) -> None:
        """Listener: integrations never receive events."""

    async def forward_webhook(self, request: web.Request) -> web.StreamResponse:
        """``webhook_received`` for a request to ``/webhook/<webhookId><tail>``; the integration's answer is relayed."""
        if request.match_info["webhook_id"] != self.identity.webhook_id:
            return error_response("ResourceNotFound", f"No webhook {request.match_info['webhook_id']!r}")
        req: dict[str, Any] = {
            "method": request.method.upper(),
            "path": request.match_info.get("tail") or "/",
            "query": request.query_string,
            "headers": {key.lower(): value for key, value in request.headers.items()},
        }
        if req["method"] in _BODY_METHODS:
            req["body"] = (await request.read()).decode("utf-8", errors="replace")
        try:
            response = await self.send("webhook_received", {"req": req})
        except IntegrationCallError as exc:
            return error_response("Internal", exc.message)
        headers = {key: value for key, value in response.headers.items() if key.lower() not in _HOP_BY_HOP}
        return web.Response(status=response.status_code, body=response.content, headers=headers)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _summary(body: dict[str, Any]) -> str:
    if "type" in body and "input" in body:
        return f"action {body['type']}"
    if "req" in body:
        return f"{body['req']['method']} {body['req']['path']}"
    if "message" in body:
        return f"{body['type']} message {body['message']['id']}"
    return ""
