"""The inbox's contract harness: a ready adapter, and the signed webhooks its agents cause."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import JsonValue

from coordination import Coordinator
from external_adapters.base import AdapterContext, AdapterEnvironment, Installation, WebhookRequest
from external_adapters.inbox import InboxAdapter, InboxService
from external_adapters.inbox.models import Agent, SessionState
from external_adapters.inbox.signing import SIGNATURE_HEADER, signed_headers

INSTALLATION = Installation(
    bot_id="bot_1", bot_user_id="botuser_1", integration_id="intver_1", integration_alias="inbox", webhook_id="wh_1"
)
WEBHOOK_URL = "http://hooks.test/wh_1"


@dataclass
class MemoryState:
    """An in-memory integration state store."""

    values: dict[str, dict[str, JsonValue]] = field(default_factory=dict)

    async def get(self, name: str) -> dict[str, JsonValue] | None:
        return self.values.get(name)

    async def set(self, name: str, payload: dict[str, JsonValue] | None) -> None:
        if payload is None:
            self.values.pop(name, None)
        else:
            self.values[name] = payload


def make_adapter(
    service: InboxService, http: httpx.AsyncClient, data_dir: Path, coordinator: Coordinator, **config: Any
) -> InboxAdapter:
    """An adapter for one request, as the integration builds it."""
    env = AdapterEnvironment(http=http, data_dir=data_dir, coordinator=coordinator)
    context = AdapterContext(installation=INSTALLATION, state=MemoryState(), env=env, backend=service)
    return InboxAdapter(InboxAdapter.parse_config(config), context)


@dataclass
class InboxHarness:
    """Satisfies ``external_adapters.contract.AdapterHarness``."""

    adapter: InboxAdapter
    service: InboxService
    agent: Agent
    clock: Any
    webhook_url: str = WEBHOOK_URL
    media_base_url: str = "https://media.test"
    bad_config: tuple[dict[str, Any], str] = ({"language": "not a language!"}, "language")
    bad_session_options: tuple[dict[str, Any], str] = ({"claimTimeoutSeconds": 0}, "claimTimeoutSeconds")

    async def agent_reply(self, external_session_id: str, text: str) -> WebhookRequest:
        await self._claimed(external_session_id)
        await self.service.actions.reply(self.agent, external_session_id, text)
        return await self.last(external_session_id, "agent_message")

    async def assign(self, external_session_id: str) -> WebhookRequest:
        await self._claimed(external_session_id)
        return await self.last(external_session_id, "agent_assigned")

    async def close(self, external_session_id: str) -> WebhookRequest:
        await self.service.actions.resolve(self.agent, external_session_id)
        return await self.last(external_session_id, "session_closed")

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        headers = dict(request.headers)
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER][:-4] + "0000"
        return request.model_copy(update={"headers": headers})

    async def _claimed(self, session_id: str) -> None:
        detail = await self.service.queries.detail(self.agent, session_id)
        if detail["session"]["state"] == SessionState.NEEDS_ACTION.value:
            await self.service.actions.claim(self.agent, session_id)

    async def last(self, session_id: str, event_type: str) -> WebhookRequest:
        """The webhook the outbox would POST for the session's latest event of this type."""
        rows = await self.service.store.fetch_all(
            "SELECT event_id, body FROM outbox WHERE session_id = ? ORDER BY id DESC", (session_id,)
        )
        row = next(r for r in rows if json.loads(r["body"])["type"] == event_type)
        return await signed_request(self.service, row["event_id"], row["body"], int(self.clock()))


async def signed_request(service: InboxService, event_id: str, body: str, timestamp: int) -> WebhookRequest:
    """An outbox body as Botpress relays it to ``webhook_received``."""
    installation = await service.intake.installation(INSTALLATION.bot_id, INSTALLATION.integration_id)
    assert installation is not None
    headers = signed_headers(installation.secret, timestamp, body, event_id)
    return WebhookRequest(method="POST", path="/", headers=headers, body=body)
