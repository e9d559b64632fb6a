"""The ticket ``open_session`` opens: its body, and how a ticket opened for an idempotency key is found again.

The ticket is created with the tag and external_id ``hitl_req_<hash of the idempotency key>``. It is found again by
that external_id (immediately consistent) until ``link_session`` replaces the external_id with the Botpress
conversation id, then by the tag through the search API (which lags a little behind writes); the journal of the
coordination port (:func:`.guards.once`) covers that lag once a ticket was recorded.
"""

from __future__ import annotations

import html

from ..base import OpenSessionRequest
from .client import ZendeskClient
from .config import ZendeskConfig, ZendeskSession
from .models import CommentInput, Requester, Ticket, TicketInput, zendesk_id


async def find_ticket(client: ZendeskClient, key_tag: str) -> Ticket | None:
    """The ticket opened for ``key_tag``: by external_id first (immediate), then by tag (the search lags)."""
    for ticket in await client.list_tickets_by_external_id(key_tag):
        if key_tag in ticket.tags:
            return ticket
    found = await client.search_tickets(f"tags:{key_tag}")
    return found[0] if found else None


def ticket_input(
    request: OpenSessionRequest[ZendeskSession], config: ZendeskConfig, marker: str, key_tag: str
) -> TicketInput:
    """The ``POST /api/v2/tickets`` body: card fields, requester, tags (marker and key) and the opening comment."""
    options, user = request.options, request.end_user
    requester = None
    if options.requester_name or options.requester_email:
        name = options.requester_name or user.name or options.requester_email or "Customer"
        requester = Requester(name=name, email=options.requester_email)
    tags = [*config.tags, *options.tags, marker, key_tag]
    return TicketInput(
        subject=request.title or f"Conversation with {user.name or 'a customer'}",
        comment=CommentInput(
            html_body=_opening_html(request),
            public=options.transcript_visibility == "public",
            author_id=None if requester else zendesk_id(user.external_user_id, "users"),
        ),
        requester=requester,
        requester_id=None if requester else zendesk_id(user.external_user_id, "users"),
        priority=options.priority,
        type=options.type,
        tags=list(dict.fromkeys(tags)),
        group_id=options.group_id,
        assignee_email=options.assignee_email,
        ticket_form_id=options.ticket_form_id,
        custom_fields=[field.model_dump() for field in options.custom_fields] or None,
        external_id=key_tag,
    )


def _opening_html(request: OpenSessionRequest[ZendeskSession]) -> str:
    chatbot = request.options.chatbot_name or "Botpress"
    description = (request.description or "").strip() or f"Someone opened a ticket using your {chatbot} chatbot."
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in description.split("\n") if line.strip())
    transcript = request.transcript.html.strip()
    return f"{paragraphs}<hr>{transcript}" if transcript else paragraphs
