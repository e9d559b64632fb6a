"""Small adapters whose only purpose is to be declared: their methods are never called."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from external_adapters.base import (
    ExternalUserRequest,
    HelpdeskAdapter,
    OpenSessionRequest,
    OutboundMessage,
    WebhookRequest,
    WebhookResult,
)


class DeskConfig(BaseModel):
    """Installation settings of the test desk (this docstring must not reach the schema)."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)

    api_key: SecretStr = Field(alias="apiKey", description="API key of the desk")
    subdomain: str = Field(description="Desk subdomain")
    webhook_secret: SecretStr | None = Field(default=None, alias="webhookSecret")
    base_url: str | None = Field(default=None, alias="baseUrl")


class TicketOptions(BaseModel):
    """The Studio card of the test desk: the reference integration's entity."""

    model_config = ConfigDict(extra="forbid")

    priority: Literal["low", "high"] | None = None


class Credentials(BaseModel):
    token: str


class DeskAdapter(HelpdeskAdapter[DeskConfig, TicketOptions]):
    """Declares what the reference schemas' integration declares; does nothing."""

    name: ClassVar[str] = "definition-test"
    title: ClassVar[str] = "Test Desk"
    config_model: ClassVar[type[BaseModel]] = DeskConfig
    session_model: ClassVar[type[BaseModel]] = TicketOptions
    entity_name: ClassVar[str] = "ticket"
    states: ClassVar[Mapping[str, type[BaseModel]]] = {"credentials": Credentials}

    async def subscribe(self, webhook_url: str) -> None:
        return None

    async def unsubscribe(self, webhook_url: str) -> None:
        return None

    async def create_user(self, request: ExternalUserRequest) -> str:
        return "user-1"

    async def open_session(self, request: OpenSessionRequest[TicketOptions]) -> str:
        return "ticket-1"

    async def link_session(self, external_session_id: str, bp_conversation_id: str) -> None:
        return None

    async def close_session(self, external_session_id: str) -> None:
        return None

    async def send_message(self, request: OutboundMessage) -> str:
        return "message-1"

    async def verify_webhook(self, request: WebhookRequest) -> None:
        return None

    async def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        return WebhookResult()


class ClashingStateAdapter(DeskAdapter):
    """An adapter that wants a state name the integration already uses."""

    name: ClassVar[str] = "definition-clash"
    states: ClassVar[Mapping[str, type[BaseModel]]] = {"hitlSession": Credentials}
