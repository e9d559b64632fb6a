"""A stateful, in-memory Zendesk behind respx: tickets, comments, users, uploads, webhooks and triggers.

Agents act through :meth:`FakeZendesk.agent_comment`, :meth:`assign` and :meth:`set_status`. Each returns the
signed webhook deliveries that the stored triggers would cause: the fake evaluates the trigger conditions
the adapter created (so loop prevention and the marker tag are really exercised) and renders their
payload templates with ``{{ticket.id}}``, ``{{current_user.id}}`` and ``{{ticket.public_comments[0].id}}``.
Comments are listed with cursor pagination (``page[size]``, ``page[after]``, ``sort``) like the real API.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import respx

from external_adapters import WebhookRequest
from external_adapters.zendesk.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

from .fake_triggers import matches

API_USER_ID = 1
CREATED_AT = "2025-01-01T12:00:00Z"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeTicket:
    id: int
    data: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    audits: list[dict[str, Any]] = field(default_factory=list)
    """Every create and update, oldest first, with the custom metadata it carried."""

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": f"https://acme.zendesk.com/api/v2/tickets/{self.id}.json",
            "updated_at": f"2025-01-01T12:{self.version // 60:02d}:{self.version % 60:02d}Z",
            **self.data,
        }


class FakeZendesk:
    """One Zendesk account's state and the routes that serve it."""

    def __init__(self) -> None:
        self._ids = itertools.count(1000)
        self.users: dict[int, dict[str, Any]] = {API_USER_ID: _user(API_USER_ID, "API Agent", "admin")}
        self.tickets: dict[int, FakeTicket] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.triggers: dict[int, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.agent = self.add_user(
            "Bob Agent", "agent", email="bob@acme.test", photo="https://acme.zendesk.com/bob.png"
        )
        self.fail_next: list[httpx.Response | Exception] = []
        self.comment_pages_served = 0
        """Answers (or network errors) served before the real handlers, in order."""

    def add_user(self, name: str, role: str, *, email: str | None = None, photo: str | None = None) -> int:
        user_id = next(self._ids)
        self.users[user_id] = _user(user_id, name, role, email=email, photo=photo)
        return user_id

    # --- installation ------------------------------------------------------------------------------------------

    def install(self, router: respx.MockRouter) -> FakeZendesk:
        """Serve every endpoint the adapter uses on ``router`` (paths with or without ``.json``)."""
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/api/v2/users/create_or_update", self._create_or_update_user),
            ("GET", r"/api/v2/users/(?P<user_id>\d+)", self._show_user),
            ("POST", r"/api/v2/tickets", self._create_ticket),
            ("GET", r"/api/v2/tickets", self._list_tickets),
            ("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)", self._show_ticket),
            ("PUT", r"/api/v2/tickets/(?P<ticket_id>\d+)", self._update_ticket),
            ("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)/comments", self._list_comments),
            ("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)/audits", self._list_audits),
            ("GET", r"/api/v2/search", self._search),
            ("POST", r"/api/v2/uploads", self._upload),
            ("POST", r"/api/v2/webhooks", self._create_webhook),
            ("GET", r"/api/v2/webhooks", self._list_webhooks),
            ("GET", r"/api/v2/webhooks/(?P<webhook_id>\w+)/signing_secret", self._signing_secret),
            ("DELETE", r"/api/v2/webhooks/(?P<webhook_id>\w+)", self._delete_webhook),
            ("POST", r"/api/v2/triggers", self._create_trigger),
            ("GET", r"/api/v2/triggers/search", self._search_triggers),
            ("DELETE", r"/api/v2/triggers/(?P<trigger_id>\d+)", self._delete_trigger),
        ]
        for method, pattern, handler in routes:
            router.route(method=method, path__regex=rf"^{pattern}(\.json)?$").mock(side_effect=self._guard(handler))
        return self

    def _guard(self, handler: Any) -> Any:
        def respond(request: httpx.Request, **params: str) -> httpx.Response:
            if self.fail_next:
                failure = self.fail_next.pop(0)
                if isinstance(failure, Exception):
                    raise failure
                return failure
            # Looked up at call time, so a test can patch one handler on the instance.
            answer: httpx.Response = getattr(self, handler.__name__)(request, **params)
            return answer

        return respond

    # --- users ------------------------------------------------------------------------------------------------

    def _create_or_update_user(self, request: httpx.Request) -> httpx.Response:
        data = _json(request)["user"]
        for user in self.users.values():
            same_external = data.get("external_id") and user.get("external_id") == data["external_id"]
            if same_external or (data.get("email") and user.get("email") == data["email"]):
                user.update({k: v for k, v in data.items() if k in ("name", "email", "external_id")})
                return httpx.Response(200, json={"user": user})
        user_id = next(self._ids)
        self.users[user_id] = _user(
            user_id,
            data["name"],
            data.get("role", "end-user"),
            email=data.get("email"),
            external_id=data.get("external_id"),
            photo=data.get("remote_photo_url"),
        )
        return httpx.Response(201, json={"user": self.users[user_id]})

    def _show_user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        user = self.users.get(int(user_id))
        return httpx.Response(200, json={"user": user}) if user else _not_found()

    # --- tickets ----------------------------------------------------------------------------------------------

    def _create_ticket(self, request: httpx.Request) -> httpx.Response:
        data = dict(_json(request)["ticket"])
        comment = data.pop("comment")
        requester = data.pop("requester", None)
        if requester is not None:
            data["requester_id"] = self._requester_id(requester)
        ticket = FakeTicket(next(self._ids), {"status": "new", "tags": [], "assignee_id": None})
        metadata = data.get("metadata")
        self._apply(ticket, data)
        self.tickets[ticket.id] = ticket
        comment_id = self._add_comment(ticket, comment, default_author=data.get("requester_id", API_USER_ID))
        return httpx.Response(201, json={"ticket": ticket.view(), "audit": _audit(ticket, comment_id, metadata)})

    def _apply(self, ticket: FakeTicket, data: dict[str, Any]) -> None:
        """Store the fields of a create/update; write-only ones are resolved, never shown back."""
        for key in ("metadata", "safe_update", "updated_stamp"):
            data.pop(key, None)
        email = data.pop("assignee_email", None)
        if email is not None:
            found = [u["id"] for u in self.users.values() if u.get("email") == email and u["role"] != "end-user"]
            if not found:
                raise AssertionError(f"no agent {email} in the fake account")
            data["assignee_id"] = found[0]
        ticket.data.update(data)

    def _requester_id(self, requester: dict[str, Any]) -> int:
        for user in self.users.values():
            if requester.get("email") and user.get("email") == requester["email"]:
                return int(user["id"])
        return self.add_user(requester["name"], "end-user", email=requester.get("email"))

    def _show_ticket(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        ticket = self.tickets.get(int(ticket_id))
        return httpx.Response(200, json={"ticket": ticket.view()}) if ticket else _not_found()

    def _update_ticket(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return _not_found()
        if ticket.data["status"] == "closed":
            return httpx.Response(
                422,
                json={
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
                },
            )
        data = dict(_json(request)["ticket"])
        comment = data.pop("comment", None)
        metadata = data.get("metadata")
        self._apply(ticket, data)
        ticket.version += 1
        comment_id = self._add_comment(ticket, comment, default_author=API_USER_ID) if comment else None
        return httpx.Response(200, json={"ticket": ticket.view(), "audit": _audit(ticket, comment_id, metadata)})

    def _list_audits(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        """Offset pagination, oldest first: ``per_page`` (at most 100) and ``page``, with the total ``count``."""
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return _not_found()
        size = min(int(request.url.params.get("per_page", "100")), 100)
        start = (int(request.url.params.get("page", "1")) - 1) * size
        page = ticket.audits[start : start + size]
        return httpx.Response(200, json={"audits": page, "count": len(ticket.audits)})

    def _add_comment(
        self, ticket: FakeTicket, comment: dict[str, Any], *, default_author: int, via: str = "api"
    ) -> int:
        comment_id = next(self._ids)
        attachments = [self.uploads.pop(token) for token in comment.get("uploads", []) if token in self.uploads]
        body = comment.get("body") or re.sub(r"<[^>]+>", " ", comment.get("html_body", "")).strip()
        ticket.comments.append(
            {
                "id": comment_id,
                "type": "Comment",
                "author_id": comment.get("author_id", default_author),
                "body": body,
                "html_body": comment.get("html_body") or f'<div class="zd-comment"><p>{body}</p></div>',
                "plain_body": body,
                "public": comment.get("public", True),
                "attachments": attachments,
                "audit_id": next(self._ids),
                "via": {"channel": via, "source": {"rel": None}},
                "created_at": _now(),
                "metadata": {},
            }
        )
        return comment_id

    def _list_tickets(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("external_id")
        found = [t.view() for t in self.tickets.values() if wanted is None or t.data.get("external_id") == wanted]
        return httpx.Response(200, json={"tickets": found, "count": len(found)})

    def _search(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("query", "")
        tags = re.findall(r"tags:(\S+)", query)
        found = [
            {**t.view(), "result_type": "ticket"}
            for t in self.tickets.values()
            if tags and all(tag in t.data.get("tags", []) for tag in tags)
        ]
        return httpx.Response(200, json={"results": found, "count": len(found)})

    def _list_comments(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        """Cursor pagination when ``page[size]`` is given (``sort``, ``page[after]``), else offset pagination."""
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return _not_found()
        params = request.url.params
        self.comment_pages_served += 1
        if "page[size]" in params:
            comments, body = self._comment_cursor_page(ticket, params)
        else:
            comments = list(reversed(ticket.comments)) if params.get("sort_order") == "desc" else list(ticket.comments)
            comments = comments[: min(int(params.get("per_page", "100")), 100)]
            body = {"comments": comments, "count": len(comments)}
        if params.get("include") == "users":
            body["users"] = [self.users[a] for a in {c["author_id"] for c in comments} if a in self.users]
        return httpx.Response(200, json=body)

    def _comment_cursor_page(
        self, ticket: FakeTicket, params: httpx.QueryParams
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        ordered = list(reversed(ticket.comments)) if params.get("sort") == "-created_at" else list(ticket.comments)
        size = min(int(params["page[size]"]), 100)
        start = int(params["page[after]"].removeprefix("cur-")) if "page[after]" in params else 0
        comments = ordered[start : start + size]
        has_more = start + size < len(ordered)
        after = f"cur-{start + size}" if has_more else None
        meta = {"has_more": has_more, "after_cursor": after, "before_cursor": f"cur-{start}" if start else None}
        next_link = f"https://acme.zendesk.com/api/v2/tickets/{ticket.id}/comments?page[after]={after}"
        links = {"next": next_link if after else None, "prev": None}
        return comments, {"comments": comments, "meta": meta, "links": links}

    def _upload(self, request: httpx.Request) -> httpx.Response:
        token = uuid.uuid4().hex
        attachment_id = next(self._ids)
        filename = request.url.params["filename"]
        self.uploads[token] = {
            "id": attachment_id,
            "file_name": filename,
            "content_type": request.headers["content-type"],
            "content_url": f"https://acme.zendesk.com/attachments/token/{token}/?name={filename}",
            "size": len(request.content),
            "width": None,
            "height": None,
            "inline": False,
            "deleted": False,
        }
        return httpx.Response(
            201,
            json={"upload": {"token": token, "attachment": self.uploads[token], "attachments": [self.uploads[token]]}},
        )

    # --- webhooks and triggers --------------------------------------------------------------------------------

    def _create_webhook(self, request: httpx.Request) -> httpx.Response:
        webhook = dict(_json(request)["webhook"])
        webhook_id = "01" + uuid.uuid4().hex[:24].upper()
        self.webhooks[webhook_id] = {**webhook, "id": webhook_id, "secret": "whsec-" + uuid.uuid4().hex}
        return httpx.Response(201, json={"webhook": {**webhook, "id": webhook_id, "created_at": CREATED_AT}})

    def _list_webhooks(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("filter[name_contains]", "")
        found = [_public_webhook(w) for w in self.webhooks.values() if wanted in w["name"]]
        return httpx.Response(200, json={"webhooks": found, "meta": {"has_more": False}, "links": {}})

    def _signing_secret(self, request: httpx.Request, webhook_id: str) -> httpx.Response:
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            return _not_found()
        return httpx.Response(200, json={"signing_secret": {"algorithm": "sha256", "secret": webhook["secret"]}})

    def _delete_webhook(self, request: httpx.Request, webhook_id: str) -> httpx.Response:
        return httpx.Response(204) if self.webhooks.pop(webhook_id, None) else _not_found()

    def _create_trigger(self, request: httpx.Request) -> httpx.Response:
        trigger = dict(_json(request)["trigger"])
        trigger_id = next(self._ids)
        self.triggers[trigger_id] = {**trigger, "id": trigger_id}
        return httpx.Response(201, json={"trigger": {**trigger, "id": trigger_id, "created_at": CREATED_AT}})

    def _search_triggers(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("query", "").lower()
        found = [t for t in self.triggers.values() if query in t["title"].lower()]
        return httpx.Response(200, json={"triggers": found, "count": len(found)})

    def _delete_trigger(self, request: httpx.Request, trigger_id: str) -> httpx.Response:
        return httpx.Response(204) if self.triggers.pop(int(trigger_id), None) else _not_found()

    # --- agents acting in the Zendesk UI ----------------------------------------------------------------------

    def agent_comment(
        self,
        ticket_id: int,
        html: str,
        *,
        public: bool = True,
        via: str = "web",
        author_id: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> list[WebhookRequest]:
        """An agent (or anyone) comments in the UI; returns the webhooks the triggers send."""
        ticket = self.tickets[ticket_id]
        author = author_id or self.agent
        comment_id = self._add_comment(
            ticket, {"html_body": html, "public": public, "author_id": author}, via=via, default_author=author
        )
        ticket.comments[-1]["attachments"] = attachments or []
        ticket.comments[-1]["body"] = re.sub(r"<[^>]+>", "", html)
        assert comment_id
        return self._fire(ticket, {"comment": True, "public": public, "via": via, "user": author})

    def assign(self, ticket_id: int, agent_id: int | None = None) -> list[WebhookRequest]:
        """An agent takes the ticket (``agent_id=None`` with ``unassign`` semantics is :meth:`unassign`)."""
        ticket = self.tickets[ticket_id]
        ticket.data["assignee_id"] = agent_id or self.agent
        ticket.version += 1
        return self._fire(ticket, {"assignee_changed": True, "via": "web", "user": agent_id or self.agent})

    def unassign(self, ticket_id: int) -> list[WebhookRequest]:
        ticket = self.tickets[ticket_id]
        ticket.data["assignee_id"] = None
        ticket.version += 1
        return self._fire(ticket, {"assignee_changed": True, "via": "web", "user": self.agent})

    def set_status(self, ticket_id: int, status: str, *, comment_html: str | None = None) -> list[WebhookRequest]:
        """An agent changes the status in the UI, optionally with a public comment in the same update."""
        ticket = self.tickets[ticket_id]
        change: dict[str, Any] = {"status_changed": True, "via": "web", "user": self.agent}
        if comment_html is not None:
            self._add_comment(
                ticket, {"html_body": comment_html, "author_id": self.agent}, via="web", default_author=self.agent
            )
            change.update(comment=True, public=True)
        ticket.data["status"] = status
        ticket.version += 1
        return self._fire(ticket, change)

    def _fire(self, ticket: FakeTicket, change: dict[str, Any]) -> list[WebhookRequest]:
        fired = []
        for trigger in self.triggers.values():
            if trigger.get("active", True) and matches(trigger["conditions"], ticket.data, change, self.users):
                for action in trigger["actions"]:
                    if action["field"] == "notification_webhook":
                        webhook_id, template = action["value"]
                        fired.append(self._deliver(webhook_id, template, ticket, change))
        return fired

    def _deliver(self, webhook_id: str, template: str, ticket: FakeTicket, change: dict[str, Any]) -> WebhookRequest:
        webhook = self.webhooks[webhook_id]
        public = [comment for comment in ticket.comments if comment["public"]]
        newest_public = str(public[-1]["id"]) if public else ""
        body = template.replace("{{ticket.id}}", str(ticket.id)).replace("{{current_user.id}}", str(change["user"]))
        body = body.replace("{{ticket.public_comments[0].id}}", newest_public)
        timestamp = _now()
        return WebhookRequest(
            method="POST",
            path=urlsplit(webhook["endpoint"]).path or "/",
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER: sign(webhook["secret"], timestamp, body),
                TIMESTAMP_HEADER: timestamp,
                "x-zendesk-webhook-id": webhook_id,
                "x-zendesk-webhook-invocation-id": str(next(self._ids)),
            },
            body=body,
        )


def _user(
    user_id: int,
    name: str,
    role: str,
    *,
    email: str | None = None,
    external_id: str | None = None,
    photo: str | None = None,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": name,
        "email": email,
        "role": role,
        "external_id": external_id,
        "active": True,
        "photo": {"content_url": photo, "id": user_id, "file_name": "photo.png", "size": 1} if photo else None,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


def _public_webhook(webhook: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in webhook.items() if key != "secret"} | {"created_at": CREATED_AT}


def _audit(ticket: FakeTicket, comment_id: int | None, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """The audit of a create or update, remembered on the ticket; the request's metadata is its ``custom`` part."""
    events = [{"id": comment_id, "type": "Comment", "public": True}] if comment_id else []
    metadata = {"custom": dict(custom or {}), "system": {}}
    audit = {"id": 9_000_000 + ticket.version, "ticket_id": ticket.id, "events": events, "metadata": metadata}
    ticket.audits.append(audit)
    return audit


def _json(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def _not_found() -> httpx.Response:
    return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
