"""Which comments a comment webhook reads back: the newest ones, and the one it is about even on a busy ticket.

The trigger sends the id of the comment that fired it (``commentId``). Usually that comment is among the
newest ``RECENT_COMMENTS``, read in one call; their agent replies are all applied (the core skips those it
already has), so a reply whose own webhook was lost is caught up too. A late webhook on a busy ticket (the
user's messages relayed meanwhile are comments too) pages back, newest first with cursor pagination, until
its comment shows up or an older one does (ids grow over time), for at most ``MAX_PAGES`` pages of
``PAGE_SIZE``. Triggers made before ``commentId`` existed send none: then only the newest comments are read.
"""

from __future__ import annotations

import logging

from .client import ZendeskClient
from .models import Comments

log = logging.getLogger(__name__)

RECENT_COMMENTS = 20
PAGE_SIZE = 100
MAX_PAGES = 5
_SPAN = PAGE_SIZE * MAX_PAGES


async def comments_for_webhook(client: ZendeskClient, ticket_id: int, comment_id: int | None) -> Comments:
    """The newest comments of the ticket, plus comment ``comment_id`` (with its author) when it is older."""
    recent = await client.list_comments_page(ticket_id, size=RECENT_COMMENTS)
    if comment_id is None or _reached(recent, comment_id):
        return recent
    found = await _page_back(client, ticket_id, comment_id)
    if found is None:
        log.warning("zendesk: comment %s of ticket %s is gone or over %d comments back", comment_id, ticket_id, _SPAN)
        return recent
    return Comments(comments=[*recent.comments, *found.comments], users=[*recent.users, *found.users])


async def _page_back(client: ZendeskClient, ticket_id: int, comment_id: int) -> Comments | None:
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.list_comments_page(ticket_id, size=PAGE_SIZE, after=after)
        match = [comment for comment in page.comments if comment.id == comment_id]
        if match:
            return Comments(comments=match, users=[user for user in page.users if user.id == match[0].author_id])
        if _reached(page, comment_id) or page.meta is None or not page.meta.after_cursor:
            return None
        after = page.meta.after_cursor
    return None


def _reached(page: Comments, comment_id: int) -> bool:
    """Whether ``page`` (newest first) holds the comment, an older one, or the ticket's very first one."""
    at_the_end = page.meta is not None and not page.meta.has_more
    return at_the_end or any(comment.id <= comment_id for comment in page.comments)
