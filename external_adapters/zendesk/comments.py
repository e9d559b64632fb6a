"""Which comments a comment webhook reads back: those newer than the ticket's high-water mark.

The mark (:mod:`.marks`) is the newest comment id of the ticket already applied: every comment up to it is in
Botpress. A delivery reads the comments newer than it, newest first: usually one call of ``RECENT_COMMENTS``
that reaches the mark. A late webhook on a busy ticket (the user's messages relayed meanwhile are comments too)
pages back with cursor pagination, ``PAGE_SIZE`` at a time, until the mark or an older comment shows up (ids grow
over time), for at most ``MAX_PAGES`` pages: no comment newer than the mark is skipped, so a reply whose own
webhook was lost is caught up too. A delivery for a comment at or below the mark (a redelivery, or a webhook that
another delivery overtook) reads nothing.

Without a mark (a ticket none of whose comments was applied yet, or a mark expired), every comment of the ticket
is read, back to its first, within the same bound. Triggers made before ``commentId`` existed send none: the mark
alone then says what is new.
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


async def comments_for_webhook(
    client: ZendeskClient, ticket_id: int, comment_id: int | None, applied: int | None
) -> Comments:
    """The ticket's comments newer than ``applied`` (all of them when ``None``), newest first, with their authors."""
    if comment_id is not None and applied is not None and comment_id <= applied:
        return Comments()  # already applied: no call
    recent = await client.list_comments_page(ticket_id, size=RECENT_COMMENTS)
    if not _reached(recent, applied):
        recent = await _page_back(client, ticket_id, applied)
    return Comments(comments=[c for c in recent.comments if applied is None or c.id > applied], users=recent.users)


async def _page_back(client: ZendeskClient, ticket_id: int, applied: int | None) -> Comments:
    comments, users, after = [], [], None
    for _ in range(MAX_PAGES):
        page = await client.list_comments_page(ticket_id, size=PAGE_SIZE, after=after)
        comments += page.comments
        users += page.users
        if _reached(page, applied) or page.meta is None or not page.meta.after_cursor:
            return Comments(comments=comments, users=users)
        after = page.meta.after_cursor
    log.warning("zendesk: ticket %s has over %d comments newer than the last applied one", ticket_id, _SPAN)
    return Comments(comments=comments, users=users)


def _reached(page: Comments, applied: int | None) -> bool:
    """Whether ``page`` (newest first) holds the mark or an older comment, or the ticket's very first one."""
    at_the_end = page.meta is not None and not page.meta.has_more
    return at_the_end or (applied is not None and any(comment.id <= applied for comment in page.comments))
