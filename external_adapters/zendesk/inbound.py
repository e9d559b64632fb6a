"""Zendesk comments and users as neutral inbound events."""

from __future__ import annotations

from bp_modules.hitl import HitlAudio, HitlFile, HitlImage, HitlMessage, HitlText, HitlVideo

from ..events import AgentMessage, AgentProfile
from .models import Attachment, Comment, Comments, User
from .webhooks import comment_text

AGENT_ROLES = frozenset({"agent", "admin"})
API_CHANNELS = frozenset({"api", "5", 5})


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
