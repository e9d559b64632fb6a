"""Pydantic models of the Zendesk resources the adapter reads, and of the state it keeps.

Responses ignore unknown keys (Zendesk adds fields freely); ids are integers on the Zendesk side.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ExternalNotFoundError

# Zendesk ids are positive 64-bit integers; anything else (a tampered tag, "1e999", "²") names nothing.
_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_ID = 2**63 - 1


def zendesk_id(value: str, resource: str) -> int:
    """The Zendesk id in ``value`` (a Botpress tag, a user's external id).

    Raises:
        ExternalNotFoundError: ``value`` is not a Zendesk id, so no ``resource`` has it.
    """
    if _ID.fullmatch(value) and int(value) <= _MAX_ID:
        return int(value)
    raise ExternalNotFoundError("zendesk", "-", f"{resource}/{value[:40]!r}", None, "not a Zendesk id")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Photo(_Response):
    content_url: str | None = None


class User(_Response):
    """A Zendesk user (end-user, agent or admin)."""

    id: int
    name: str | None = None
    email: str | None = None
    role: str | None = None
    external_id: str | None = None
    photo: Photo | None = None


class Via(_Response):
    channel: str | int | None = None


class Attachment(_Response):
    id: int
    file_name: str | None = None
    content_url: str | None = None
    content_type: str | None = None
    size: int | None = None


class Comment(_Response):
    """A ticket comment."""

    id: int
    author_id: int | None = None
    body: str | None = None
    html_body: str | None = None
    public: bool = True
    via: Via | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    created_at: str | None = None


class Ticket(_Response):
    """A ticket, as ``GET /api/v2/tickets/{id}`` shows it."""

    id: int
    status: str | None = None
    external_id: str | None = None
    assignee_id: int | None = None
    requester_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    updated_at: str | None = None


MESSAGES_KEY = "hitl_bridge_messages"
"""The custom audit metadata key of a comment this adapter posts: the Botpress message ids it delivers, separated
by spaces (a coalesced comment delivers several). Zendesk keeps it on the comment's audit, so a delivery whose
outcome is unknown (a lost answer, a crash) is found again by any of its message ids."""


def messages_value(bp_message_ids: tuple[str, ...]) -> str:
    """The :data:`MESSAGES_KEY` value of a comment delivering ``bp_message_ids`` (a string: any JSON store keeps it)."""
    return " ".join(bp_message_ids)


class Audit(_Response):
    id: int | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def bp_message_ids(self) -> tuple[str, ...]:
        """The Botpress message ids this audit's update delivered (its :data:`MESSAGES_KEY` custom metadata)."""
        custom = self.metadata.get("custom")
        value = custom.get(MESSAGES_KEY) if isinstance(custom, dict) else None
        return tuple(value.split()) if isinstance(value, str) else ()

    def comment_ref(self) -> str:
        """The id of the comment this audit added, or ``audit:<id>`` when it shows none (the ack either way)."""
        comment_id = self.comment_id()
        return str(comment_id) if comment_id is not None else f"audit:{self.id if self.id is not None else ''}"

    def comment_id(self) -> int | None:
        """The id of the comment this audit added, if it added one."""
        for event in self.events:
            if event.get("type") == "Comment" and isinstance(event.get("id"), int):
                return int(event["id"])
        return None


class TicketWithAudit(_Response):
    ticket: Ticket
    audit: Audit | None = None


class CursorMeta(_Response):
    """``meta`` of a cursor-paginated list: whether more pages follow, and the cursor of the next one."""

    has_more: bool = False
    after_cursor: str | None = None


class Comments(_Response):
    comments: list[Comment] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    meta: CursorMeta | None = None


class Upload(_Response):
    token: str


class Webhook(_Response):
    id: str
    name: str | None = None
    endpoint: str | None = None


class SigningSecret(_Response):
    secret: str
    algorithm: str | None = None


class Trigger(_Response):
    id: int
    title: str | None = None
    actions: list[dict[str, Any]] = Field(default_factory=list)


class ZendeskSubscription(BaseModel):
    """What :meth:`ZendeskAdapter.subscribe` created, kept in the ``zendeskSubscription`` state."""

    model_config = ConfigDict(extra="ignore")

    webhook_id: str | None = None
    signing_secret: str | None = None
    trigger_ids: list[int] = Field(default_factory=list)
    bot_zendesk_user_id: int | None = None
    marker_tag: str


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> dict[str, Any]:
        """The request body fragment, without unset fields."""
        return self.model_dump(mode="json", exclude_none=True)


class UserInput(_Input):
    name: str
    email: str | None = None
    external_id: str | None = None
    role: str = "end-user"
    remote_photo_url: str | None = None
    skip_verify_email: bool | None = None


class CommentInput(_Input):
    body: str | None = None
    html_body: str | None = None
    public: bool = True
    author_id: int | None = None
    uploads: list[str] | None = None


class Requester(_Input):
    name: str
    email: str | None = None


class TicketInput(_Input):
    """A ticket create or update body (``{"ticket": ...}``)."""

    subject: str | None = None
    comment: CommentInput | None = None
    requester_id: int | None = None
    requester: Requester | None = None
    priority: str | None = None
    type: str | None = None
    status: str | None = None
    tags: list[str] | None = None
    group_id: int | None = None
    assignee_email: str | None = None
    ticket_form_id: int | None = None
    custom_fields: list[dict[str, Any]] | None = None
    external_id: str | None = None
    metadata: dict[str, Any] | None = None


class WebhookInput(_Input):
    name: str
    endpoint: str
    status: str = "active"
    http_method: str = "POST"
    request_format: str = "json"
    subscriptions: list[str] = Field(default_factory=lambda: ["conditional_ticket_events"])
    description: str | None = None


class TriggerInput(_Input):
    title: str
    active: bool = True
    description: str | None = None
    conditions: dict[str, list[dict[str, Any]]]
    actions: list[dict[str, Any]]
