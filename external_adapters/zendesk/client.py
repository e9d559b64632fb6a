"""A thin async client of the Zendesk Support and Webhooks APIs: one method per endpoint.

Every call goes through :func:`external_adapters.http_retry.send_with_retries`; failures become the
adapter error tree with a one-line summary (never a header, a token or a whole body).

Each write says whether it is idempotent. One that is not is repeated only when its request surely never
reached Zendesk (or Zendesk said it did not act: 429, 502, 503); otherwise a lost answer raises
:class:`~external_adapters.errors.OutcomeUnknownError`, or, where Zendesk offers a lookup (the ticket by its
external_id, the trigger by its title, the webhook by its name), is checked before the write is repeated.
The table of every write is in docs/writes.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ..errors import OutcomeUnknownError, UnavailableError
from ..http_retry import RetryPolicy, method_is_idempotent, outcome_unknown, send_with_retries, write_checked
from .models import (
    MESSAGES_KEY,
    Audit,
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
from .responses import NOT_REPEATED, SERVICE, error_for, field, json_object, parse
from .runtime import DEFAULT_POLICY

log = logging.getLogger(__name__)
AUDIT_PAGE = 100  # the largest offset page; a lost comment update is looked for among the last one or two pages
Sleep = Callable[[float], Awaitable[None]]


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
        """``POST /api/v2/users/create_or_update``: match by external_id or email. Idempotent (an upsert)."""
        path = "/api/v2/users/create_or_update"
        data = await self._call("POST", path, idempotent=True, json={"user": user.to_json()})
        return field(data, "user", User)

    async def show_user(self, user_id: int) -> User:
        """``GET /api/v2/users/{id}``."""
        return field(await self._call("GET", f"/api/v2/users/{user_id}"), "user", User)

    async def create_ticket(self, ticket: TicketInput) -> TicketWithAudit:
        """``POST /api/v2/tickets``. Not idempotent.

        With an ``external_id`` (the adapter's per-request key), a lost answer is checked: the ticket is looked up
        by that external_id (immediately consistent, unlike search) and only created again when none exists; the
        found ticket comes back without an audit. Without one, a lost answer raises :class:`OutcomeUnknownError`.
        """

        async def write() -> TicketWithAudit:
            data = await self._call("POST", "/api/v2/tickets", json={"ticket": ticket.to_json()})
            return parse(TicketWithAudit, data)

        key = ticket.external_id
        if key is None:
            return await write()

        async def find() -> TicketWithAudit | None:
            found = [t for t in await self.list_tickets_by_external_id(key) if t.external_id == key]
            return TicketWithAudit(ticket=found[0]) if found else None

        return await write_checked(write, find, unknown=_unknown)

    async def show_ticket(self, ticket_id: int) -> Ticket:
        """``GET /api/v2/tickets/{id}``."""
        return field(await self._call("GET", f"/api/v2/tickets/{ticket_id}"), "ticket", Ticket)

    async def update_ticket(self, ticket_id: int, ticket: TicketInput) -> TicketWithAudit:
        """``PUT /api/v2/tickets/{id}``. Idempotent, unless it adds a comment: a repeat could post it twice.

        A comment update carrying the Botpress message ids it delivers (:data:`MESSAGES_KEY` in its audit metadata)
        is checked after a lost answer: :meth:`find_delivery` reads the ticket's newest audits, and one with those
        ids is this update (it comes back with that audit); only when none has them is the update sent again.
        Without them, it raises :class:`OutcomeUnknownError`.
        """
        adds_comment = ticket.comment is not None
        path = f"/api/v2/tickets/{ticket_id}"

        async def write() -> TicketWithAudit:
            data = await self._call("PUT", path, json={"ticket": ticket.to_json()}, idempotent=not adds_comment)
            return parse(TicketWithAudit, data)

        value = (ticket.metadata or {}).get(MESSAGES_KEY)
        if not adds_comment or not isinstance(value, str) or not value.split():
            return await write()
        bp_message_ids = frozenset(value.split())

        async def find() -> TicketWithAudit | None:
            audit = await self.find_delivery(ticket_id, lambda ids: frozenset(ids) == bp_message_ids)
            return TicketWithAudit(ticket=Ticket(id=ticket_id), audit=audit) if audit else None

        return await write_checked(write, find, unknown=_unknown)

    async def find_delivery(self, ticket_id: int, delivered: Callable[[tuple[str, ...]], bool]) -> Audit | None:
        """The newest of the ticket's newest audits (:meth:`newest_audits`) whose message ids ``delivered`` accepts."""
        audits = [audit for audit in await self.newest_audits(ticket_id) if delivered(audit.bp_message_ids())]
        return max(audits, key=lambda audit: audit.id or 0, default=None)

    async def newest_audits(self, ticket_id: int) -> list[Audit]:
        """``GET /api/v2/tickets/{id}/audits``: the first page, and the last two when there are more.

        Offset pages come in the endpoint's own order; reading both ends holds the newest 100 to 200 audits
        whichever order that is, in two or three calls.
        """
        path = f"/api/v2/tickets/{ticket_id}/audits"
        first = await self._call("GET", path, params={"per_page": str(AUDIT_PAGE)})
        total = first.get("count")
        last = -(-total // AUDIT_PAGE) if isinstance(total, int) and total > 0 else 1
        pages = [first]
        for page in range(max(2, last - 1), last + 1):
            pages.append(await self._call("GET", path, params={"per_page": str(AUDIT_PAGE), "page": str(page)}))
        return [parse(Audit, item) for data in pages for item in data.get("audits") or []]

    async def list_tickets_by_external_id(self, external_id: str) -> list[Ticket]:
        """``GET /api/v2/tickets?external_id=``: external ids are not unique, so this is a list."""
        data = await self._call("GET", "/api/v2/tickets", params={"external_id": external_id})
        return [parse(Ticket, item) for item in data.get("tickets") or []]

    async def search_tickets(self, query: str) -> list[Ticket]:
        """``GET /api/v2/search?query=type:ticket ...`` (the search index lags behind writes)."""
        data = await self._call("GET", "/api/v2/search", params={"query": f"type:ticket {query}"})
        return [parse(Ticket, item) for item in data.get("results") or [] if item.get("result_type") == "ticket"]

    async def list_comments_page(self, ticket_id: int, *, size: int, after: str | None = None) -> Comments:
        """``GET /api/v2/tickets/{id}/comments``, cursor-paginated: one page of ``size`` comments (at most 100),
        newest first, with their authors; ``after`` is the previous page's ``meta.after_cursor``."""
        params = {"include": "users", "sort": "-created_at", "page[size]": str(size)}
        if after is not None:
            params["page[after]"] = after
        return parse(Comments, await self._call("GET", f"/api/v2/tickets/{ticket_id}/comments", params=params))

    async def upload(self, filename: str, content: bytes, content_type: str) -> Upload:
        """``POST /api/v2/uploads?filename=``: returns the token a comment's ``uploads`` takes.

        Not idempotent, and there is nothing to look an upload up by: a lost answer raises
        :class:`OutcomeUnknownError` (an upload no comment attaches is never shown, and Zendesk drops it).
        """
        data = await self._call(
            "POST",
            "/api/v2/uploads",
            params={"filename": filename},
            content=content,
            headers={"Content-Type": content_type},
        )
        return field(data, "upload", Upload)

    async def create_webhook(self, webhook: WebhookInput) -> Webhook:
        """``POST /api/v2/webhooks`` (Webhooks API: never a ``.json`` suffix). Not idempotent.

        A lost answer is checked: a webhook with the same name and endpoint means it was created; only when there
        is none is it created again.
        """

        async def write() -> Webhook:
            data = await self._call("POST", "/api/v2/webhooks", json={"webhook": webhook.to_json()})
            return field(data, "webhook", Webhook)

        async def find() -> Webhook | None:
            found = await self.find_webhooks(webhook.name)
            return next((w for w in found if w.name == webhook.name and w.endpoint == webhook.endpoint), None)

        return await write_checked(write, find, unknown=_unknown)

    async def find_webhooks(self, name: str) -> list[Webhook]:
        """``GET /api/v2/webhooks?filter[name_contains]=``: the first page (100) of webhooks named like ``name``."""
        params = {"filter[name_contains]": name, "page[size]": "100"}
        data = await self._call("GET", "/api/v2/webhooks", params=params)
        return [parse(Webhook, item) for item in data.get("webhooks") or []]

    async def webhook_signing_secret(self, webhook_id: str) -> SigningSecret:
        """``GET /api/v2/webhooks/{id}/signing_secret``."""
        data = await self._call("GET", f"/api/v2/webhooks/{webhook_id}/signing_secret")
        return field(data, "signing_secret", SigningSecret)

    async def delete_webhook(self, webhook_id: str) -> None:
        """``DELETE /api/v2/webhooks/{id}``."""
        await self._call("DELETE", f"/api/v2/webhooks/{webhook_id}")

    async def create_trigger(self, trigger: TriggerInput) -> Trigger:
        """``POST /api/v2/triggers``. Not idempotent.

        A lost answer is checked: a trigger with the same title calling the same webhook means it was created
        (a leftover of an earlier webhook does not count); only when there is none is it created again.
        """

        async def write() -> Trigger:
            data = await self._call("POST", "/api/v2/triggers", json={"trigger": trigger.to_json()})
            return field(data, "trigger", Trigger)

        target = _webhook_of(trigger.actions)

        async def find() -> Trigger | None:
            found = await self.search_triggers(trigger.title)
            return next((t for t in found if t.title == trigger.title and _webhook_of(t.actions) == target), None)

        return await write_checked(write, find, unknown=_unknown)

    async def search_triggers(self, title: str) -> list[Trigger]:
        """``GET /api/v2/triggers/search?query=``: the first page (100) of triggers whose title matches ``title``."""
        data = await self._call("GET", "/api/v2/triggers/search", params={"query": title})
        return [parse(Trigger, item) for item in data.get("triggers") or []]

    async def delete_trigger(self, trigger_id: int) -> None:
        """``DELETE /api/v2/triggers/{id}``."""
        await self._call("DELETE", f"/api/v2/triggers/{trigger_id}")

    async def _call(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any) -> dict[str, Any]:
        """One request with the retry policy; ``idempotent`` defaults to the HTTP method's."""
        headers = {"Authorization": self._authorization, "Accept": "application/json", **kwargs.pop("headers", {})}
        request = self._http.build_request(method, self._base_url + path, headers=headers, **kwargs)
        repeatable = method_is_idempotent(method) if idempotent is None else idempotent

        async def send() -> httpx.Response:
            return await self._http.send(request)

        try:
            response = await send_with_retries(send, self._policy, idempotent=repeatable, sleep=self._sleep)
        except httpx.TransportError as exc:
            error = OutcomeUnknownError if not repeatable and outcome_unknown(exc) else UnavailableError
            summary = NOT_REPEATED.format(type(exc).__name__) if error is OutcomeUnknownError else type(exc).__name__
            raise error(SERVICE, method, path, None, summary) from None
        log.debug("zendesk %s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise error_for(response, method, path, self._policy if not repeatable else None)
        return json_object(response, method, path)


def _unknown(exc: Exception) -> bool:
    return isinstance(exc, OutcomeUnknownError)


def _webhook_of(actions: list[dict[str, Any]]) -> str | None:
    """The id of the webhook a trigger's ``notification_webhook`` action calls (its value is ``[id, body]``)."""
    for action in actions:
        value = action.get("value")
        if action.get("field") == "notification_webhook" and isinstance(value, list) and value:
            return str(value[0])
    return None
