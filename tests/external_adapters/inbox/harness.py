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
from external_adapters.errors import OutcomeUnknownError
from external_adapters.inbox import InboxAdapter, InboxService
from external_adapters.inbox.core import Core
from external_adapters.inbox.intake import Intake
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


@dataclass
class AnswerLoss:
    """How many of the next user-message writes commit and then lose their answer (shared across restarts)."""

    pending: int = 0


class LossyIntake(Intake):
    """The service's intake, whose next answers to ``add_user_message`` can be lost after the message was stored."""

    def __init__(self, core: Core, loss: AnswerLoss) -> None:
        super().__init__(core)
        self.loss = loss

    async def add_user_message(self, session_id: str, bp_message_id: str, message_type: str, payload: Any) -> str:
        message_id = await super().add_user_message(session_id, bp_message_id, message_type, payload)
        if self.loss.pending > 0:
            self.loss.pending -= 1
            raise OutcomeUnknownError("inbox", "POST", "/messages", None, "the answer was lost")
        return message_id


def make_adapter(
    service: InboxService,
    http: httpx.AsyncClient,
    data_dir: Path,
    coordinator: Coordinator,
    **config: Any,
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
    loss: AnswerLoss = field(default_factory=AnswerLoss)

    def __post_init__(self) -> None:
        self.service.intake = LossyIntake(self.service.core, self.loss)  # answers lost as this harness says

    async def restart(self) -> None:
        """A new service and adapter on the same database: no hub, outbox queue or cache of the old process."""
        old = self.service
        self.service = InboxService(old.store, old.options, old.clock, old.core.coordinator)
        self.service.intake = LossyIntake(self.service.core, self.loss)
        env = self.adapter.context.env
        self.adapter = make_adapter(self.service, env.http, env.data_dir, env.coordinator)

    def drop_next_answer(self) -> None:
        """The next user message is stored, then its answer is lost."""
        self.loss.pending += 1

    async def delivered(self, external_session_id: str) -> list[str]:
        """The text of every user message the session holds, oldest first."""
        rows = await self.service.store.fetch_all(
            "SELECT text FROM messages WHERE session_id = ? AND direction = 'user' ORDER BY created_at, rowid",
            (external_session_id,),
        )
        return [str(row["text"]) for row in rows]

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
