"""A thin async client of the Zendesk Support and Webhooks APIs: one method per endpoint.

Every call goes through :func:`external_adapters.http_retry.send_with_retries`; failures become the
adapter error tree with a one-line summary (never a header, a token or a whole body).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..errors import (
    ExternalAuthError,
    ExternalNotFoundError,
    ExternalRequestError,
    ExternalServiceError,
    RateLimitedError,
    UnavailableError,
)
from ..http_retry import RetryPolicy, retry_after_seconds, send_with_retries
from .models import (
    Comments,
    SigningSecret,
    Ticket,
    TicketInput,
    TicketWithAudit,
    Trigger,
    TriggerInput,
    Upload,
    User,
    UserInput,
    Webhook,
    WebhookInput,
)

log = logging.getLogger(__name__)
SERVICE = "zendesk"
DEFAULT_POLICY = RetryPolicy()
SUMMARY_LIMIT = 200
Sleep = Callable[[float], Awaitable[None]]
ModelT = TypeVar("ModelT", bound=BaseModel)
# Errors after which a comment may or may not exist: repeating the update could post it twice.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _NotRetried(Exception):
    """Raised inside a retry loop to stop it: the outcome of the request is unknown."""

    def __init__(self, status: int | None) -> None:
        super().__init__(status)
        self.status = status


class ZendeskClient:
    """Calls one Zendesk account with the given ``Authorization`` header value."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        authorization: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Sleep | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._authorization = authorization
        self._policy = policy
        self._sleep = sleep

    async def create_or_update_user(self, user: UserInput) -> User:
        """``POST /api/v2/users/create_or_update``: match by external_id or email."""
        data = await self._call("POST", "/api/v2/users/create_or_update", json={"user": user.to_json()})
        return _field(data, "user", User)

    async def show_user(self, user_id: int) -> User:
        """``GET /api/v2/users/{id}``."""
        return _field(await self._call("GET", f"/api/v2/users/{user_id}"), "user", User)

    async def create_ticket(self, ticket: TicketInput) -> TicketWithAudit:
        """``POST /api/v2/tickets``."""
        data = await self._call("POST", "/api/v2/tickets", json={"ticket": ticket.to_json()})
        return _parse(TicketWithAudit, data)

    async def show_ticket(self, ticket_id: int) -> Ticket:
        """``GET /api/v2/tickets/{id}``."""
        return _field(await self._call("GET", f"/api/v2/tickets/{ticket_id}"), "ticket", Ticket)

    async def update_ticket(self, ticket_id: int, ticket: TicketInput) -> TicketWithAudit:
        """``PUT /api/v2/tickets/{id}``. An update that adds a comment is only retried when it surely failed."""
        adds_comment = ticket.comment is not None
        data = await self._call(
            "PUT", f"/api/v2/tickets/{ticket_id}", json={"ticket": ticket.to_json()}, repeatable=not adds_comment
        )
        return _parse(TicketWithAudit, data)

    async def list_tickets_by_external_id(self, external_id: str) -> list[Ticket]:
        """``GET /api/v2/tickets?external_id=``: external ids are not unique, so this is a list."""
        data = await self._call("GET", "/api/v2/tickets", params={"external_id": external_id})
        return [_parse(Ticket, item) for item in data.get("tickets") or []]

    async def search_tickets(self, query: str) -> list[Ticket]:
        """``GET /api/v2/search?query=type:ticket ...`` (the search index lags behind writes)."""
        data = await self._call("GET", "/api/v2/search", params={"query": f"type:ticket {query}"})
        return [_parse(Ticket, item) for item in data.get("results") or [] if item.get("result_type") == "ticket"]

    async def list_recent_comments(self, ticket_id: int, count: int) -> Comments:
        """``GET /api/v2/tickets/{id}/comments``: the newest ``count`` comments, newest first, with their authors."""
        params = {"include": "users", "sort_order": "desc", "per_page": str(count)}
        return _parse(Comments, await self._call("GET", f"/api/v2/tickets/{ticket_id}/comments", params=params))

    async def upload(self, filename: str, content: bytes, content_type: str) -> Upload:
        """``POST /api/v2/uploads?filename=``: returns the token a comment's ``uploads`` takes."""
        data = await self._call(
            "POST",
            "/api/v2/uploads",
            params={"filename": filename},
            content=content,
            headers={"Content-Type": content_type},
        )
        return _field(data, "upload", Upload)

    async def create_webhook(self, webhook: WebhookInput) -> Webhook:
        """``POST /api/v2/webhooks`` (Webhooks API: never a ``.json`` suffix)."""
        return _field(
            await self._call("POST", "/api/v2/webhooks", json={"webhook": webhook.to_json()}), "webhook", Webhook
        )

    async def webhook_signing_secret(self, webhook_id: str) -> SigningSecret:
        """``GET /api/v2/webhooks/{id}/signing_secret``."""
        data = await self._call("GET", f"/api/v2/webhooks/{webhook_id}/signing_secret")
        return _field(data, "signing_secret", SigningSecret)

    async def delete_webhook(self, webhook_id: str) -> None:
        """``DELETE /api/v2/webhooks/{id}``."""
        await self._call("DELETE", f"/api/v2/webhooks/{webhook_id}")

    async def create_trigger(self, trigger: TriggerInput) -> Trigger:
        """``POST /api/v2/triggers``."""
        data = await self._call("POST", "/api/v2/triggers", json={"trigger": trigger.to_json()})
        return _field(data, "trigger", Trigger)

    async def delete_trigger(self, trigger_id: int) -> None:
        """``DELETE /api/v2/triggers/{id}``."""
        await self._call("DELETE", f"/api/v2/triggers/{trigger_id}")

    async def _call(self, method: str, path: str, *, repeatable: bool = True, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": self._authorization, "Accept": "application/json", **kwargs.pop("headers", {})}
        request = self._http.build_request(method, self._base_url + path, headers=headers, **kwargs)
        try:
            response = await send_with_retries(
                _sender(self._http, request, repeatable), self._policy, sleep=self._sleep
            )
        except _NotRetried as exc:
            raise UnavailableError(SERVICE, method, path, exc.status, "outcome unknown, not repeated") from None
        except httpx.TransportError as exc:
            raise UnavailableError(SERVICE, method, path, None, type(exc).__name__) from None
        log.debug("zendesk %s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise _error_for(response, method, path)
        return _json(response, method, path)


def _sender(
    http: httpx.AsyncClient, request: httpx.Request, repeatable: bool
) -> Callable[[], Awaitable[httpx.Response]]:
    async def send() -> httpx.Response:
        try:
            response = await http.send(request)
        except _NEVER_SENT:
            raise
        except httpx.TransportError as exc:
            if repeatable:
                raise
            raise _NotRetried(None) from exc
        if not repeatable and response.status_code >= 500 and response.status_code not in (502, 503):
            raise _NotRetried(response.status_code)
        return response

    return send


def _error_for(response: httpx.Response, method: str, path: str) -> ExternalServiceError:
    status = response.status_code
    if status == 429:
        return RateLimitedError(SERVICE, method, path, retry_after_seconds(response))
    if status >= 500:
        return UnavailableError(SERVICE, method, path, status, "Zendesk failed")
    summary = error_summary(response)
    if status in (401, 403):
        return ExternalAuthError(SERVICE, method, path, status, summary)
    if status == 404:
        return ExternalNotFoundError(SERVICE, method, path, status, summary)
    return ExternalRequestError(SERVICE, method, path, status, summary)


def error_summary(response: httpx.Response) -> str:
    """One line out of a Zendesk error body: ``error: description (field: detail)``."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(body, dict):
        return response.reason_phrase or "error"
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("title") or error.get("message")
    parts = [str(part) for part in (error, body.get("description")) if part]
    details = body.get("details")
    if isinstance(details, dict):
        parts.extend(_detail_lines(details))
    text = " ".join(" ".join(parts).split()) or response.reason_phrase or "error"
    return text[:SUMMARY_LIMIT]


def _detail_lines(details: dict[str, Any]) -> list[str]:
    lines = []
    for field_name, problems in details.items():
        if isinstance(problems, list) and problems and isinstance(problems[0], dict):
            lines.append(f"({field_name}: {problems[0].get('description') or problems[0].get('error')})")
    return lines


def _json(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        raise UnavailableError(SERVICE, method, path, response.status_code, "response is not JSON") from None
    return data if isinstance(data, dict) else {}


def _parse(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise UnavailableError(SERVICE, "-", model.__name__, None, f"unexpected response shape at {where}") from None


def _field(data: dict[str, Any], key: str, model: type[ModelT]) -> ModelT:
    return _parse(model, data.get(key))
