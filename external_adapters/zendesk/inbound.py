"""Zendesk webhooks, comments and users as neutral inbound events."""

from __future__ import annotations

from bp_modules.hitl import HitlAudio, HitlFile, HitlImage, HitlMessage, HitlText, HitlVideo

from ..events import AgentAssigned, AgentMessage, AgentProfile, InboundEvent, SessionClosed
from .client import ZendeskClient
from .comments import comments_for_webhook
from .models import Attachment, Comment, Comments, User
from .webhooks import TriggerPayload, comment_text

AGENT_ROLES = frozenset({"agent", "admin"})
API_CHANNELS = frozenset({"api", "5", 5})


async def webhook_events(
    client: ZendeskClient, payload: TriggerPayload, bot_user_id: int | None, invocation: str | None, applied: int | None
) -> tuple[list[InboundEvent], int | None]:
    """The events of one trigger delivery, read back from the API (its body carries ids only), and the newest
    comment id read (``None`` when none was).

    Comments newer than ``applied`` (the ticket's mark, :mod:`.comments`) give the agent messages; a solve gives
    them, the ticket's assignee (:class:`AgentAssigned`), then :class:`SessionClosed`; an assignment gives
    :class:`AgentAssigned` (an un-assignment, nothing). Keys are the invocation id, else the ticket's state.
    """
    ticket_id = payload.ticket_id
    if payload.event == "assigned":
        return await _assignment(client, ticket_id, invocation), None
    recent = await comments_for_webhook(client, ticket_id, payload.comment_id, applied)
    events: list[InboundEvent] = list(agent_messages(ticket_id, recent, bot_user_id))
    if payload.event == "solved":
        ticket = await client.show_ticket(ticket_id)
        events.extend(await _assignee(client, ticket_id, ticket.assignee_id, recent, invocation))
        key = invocation or f"closed:{ticket_id}:{ticket.updated_at}"
        events.append(SessionClosed(external_session_id=str(ticket_id), dedupe_key=key, reason=ticket.status))
    return events, max((comment.id for comment in recent.comments), default=None)


async def _assignee(
    client: ZendeskClient, ticket_id: int, assignee_id: int | None, recent: Comments, invocation: str | None
) -> list[InboundEvent]:
    """The solved ticket's assignee, announced before the close.

    The assignment happened before the solve, but its webhook may reach another worker after the solve's: then the
    session is closed and the late assignment is dropped. Read from the solved ticket, it is announced in order (the
    core skips an agent it already announced). The assignee is usually the solver, among the comments' authors.
    """
    if assignee_id is None:
        return []
    agent = next((user for user in recent.users if user.id == assignee_id), None)
    agent = agent or await client.show_user(assignee_id)
    key = f"{invocation}:assignee" if invocation else f"assigned:{ticket_id}:{assignee_id}:solved"
    return [AgentAssigned(external_session_id=str(ticket_id), dedupe_key=key, agent=agent_profile(agent))]


async def _assignment(client: ZendeskClient, ticket_id: int, invocation: str | None) -> list[InboundEvent]:
    ticket = await client.show_ticket(ticket_id)
    if ticket.assignee_id is None:
        return []  # un-assignment: no agent to announce
    agent = await client.show_user(ticket.assignee_id)
    key = invocation or f"assigned:{ticket_id}:{ticket.assignee_id}:{ticket.updated_at}"
    return [AgentAssigned(external_session_id=str(ticket_id), dedupe_key=key, agent=agent_profile(agent))]


def agent_profile(user: User) -> AgentProfile:
    """The neutral profile of a Zendesk agent."""
    photo = user.photo.content_url if user.photo else None
    return AgentProfile(external_user_id=str(user.id), name=user.name, email=user.email, picture_url=photo)


def agent_messages(ticket_id: int, recent: Comments, bot_user_id: int | None) -> list[AgentMessage]:
    """Every public agent comment in ``recent`` (oldest first) as messages; the rest never echoes back.

    Skipped: internal notes, comments made through the API (ours), comments by end users (the
    requester's email replies included) and by the bot's own Zendesk user.
    """
    authors = {user.id: user for user in recent.users}
    messages: list[AgentMessage] = []
    for comment in sorted(recent.comments, key=lambda c: (c.created_at or "", c.id)):
        author = authors.get(comment.author_id) if comment.author_id is not None else None
        if author is not None and _is_agent_reply(comment, author, bot_user_id):
            messages.extend(_comment_messages(ticket_id, comment, agent_profile(author)))
    return messages


def _is_agent_reply(comment: Comment, author: User, bot_user_id: int | None) -> bool:
    via = comment.via.channel if comment.via else None
    return (
        comment.public
        and via not in API_CHANNELS
        and author.role in AGENT_ROLES
        and (bot_user_id is None or author.id != bot_user_id)
    )


def _comment_messages(ticket_id: int, comment: Comment, agent: AgentProfile) -> list[AgentMessage]:
    events: list[AgentMessage] = []
    text = comment_text(comment.html_body, comment.body)
    if text:
        events.append(_event(ticket_id, str(comment.id), agent, HitlText(text=text)))
    for attachment in comment.attachments:
        message = _attachment_message(attachment)
        if message is not None:
            events.append(_event(ticket_id, f"{comment.id}:{attachment.id}", agent, message))
    return events


def _event(ticket_id: int, message_id: str, agent: AgentProfile, message: HitlMessage) -> AgentMessage:
    return AgentMessage(
        external_session_id=str(ticket_id),
        dedupe_key=message_id,
        external_message_id=message_id,
        agent=agent,
        message=message,
    )


def _attachment_message(attachment: Attachment) -> HitlMessage | None:
    url = attachment.content_url
    if not url:
        return None
    title = attachment.file_name or None
    kind = (attachment.content_type or "").split("/")[0]
    if kind == "image":
        return HitlImage(image_url=url, title=title)
    if kind == "audio":
        return HitlAudio(audio_url=url, title=title)
    if kind == "video":
        return HitlVideo(video_url=url, title=title)
    return HitlFile(file_url=url, title=title)
