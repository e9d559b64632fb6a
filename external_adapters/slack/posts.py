"""Each post of the bridge made once: under a journal entry of the coordination port, found again by its metadata.

Every message the bridge posts carries Slack message metadata naming what it delivers (:mod:`.models`: the
session's idempotency key, a transcript part, a Botpress message id and part). :func:`once` holds the post's lock
across workers, writes the intent, and:

* returns what the journal recorded when the post is done;
* looks the post up on Slack first when an earlier attempt never recorded its outcome (a ``PENDING`` intent: a
  lost answer, a kill -9 between the post and the record), or when the caller asks (``look_first``: a journal that
  may have been purged or started afresh must not post twice what Slack already holds);
* posts, checking a lost answer by the same look-up before posting again
  (:func:`~external_adapters.http_retry.write_checked`);
* records the Slack ``ts`` it made; a definite refusal (a 4xx-like ``ok: false``) abandons the intent.

Keys (``slack:<what>:<integration id>:...``) name what they guard; see docs/slack.md, "Limits".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from coordination import Coordinator, JournalState

from ..errors import ExternalRequestError, OutcomeUnknownError
from ..http_retry import write_checked
from .client import SlackClient
from .models import Message, SlackFile

Find = Callable[[], Awaitable[str | None]]
HISTORY_PAGES = 3
"""How far back a lost parent is looked for: the channel's newest 3 pages (600 messages) of history."""


async def once(
    coordinator: Coordinator, key: str, post: Callable[[], Awaitable[str]], find: Find, *, look_first: bool
) -> str:
    """The ``ts`` of the post ``key`` names: recorded, found, or posted now (see the module docstring)."""
    async with coordinator.lock(key):
        entry = await coordinator.intent(key)
        if entry.state is JournalState.DONE and entry.external_id:
            return entry.external_id
        try:
            found = await find() if look_first or entry.state is JournalState.PENDING else None
            made = found if found is not None else await _post_checked(post, find)
        except ExternalRequestError:
            await coordinator.abandon(key)
            raise
        await coordinator.done(key, made)
        return made


async def _post_checked(post: Callable[[], Awaitable[str]], find: Find) -> str:
    posted: str = await write_checked(post, find, unknown=_unknown)
    return posted


def _unknown(exc: Exception) -> bool:
    return isinstance(exc, OutcomeUnknownError)


async def find_parent(client: SlackClient, channel_id: str, event_type: str, **payload: object) -> str | None:
    """The ``ts`` of the newest top-level message of ``channel_id`` carrying this metadata, within
    :data:`HISTORY_PAGES` pages of history (newest first)."""
    latest: str | None = None
    for _ in range(HISTORY_PAGES):
        page = await client.conversations_history(channel_id, latest=latest)
        match = next((m for m in page.messages if m.marked(event_type, **payload)), None)
        if match is not None:
            return match.ts
        if not page.has_more or not page.messages:
            return None
        latest = page.messages[-1].ts
    return None


def marked_ts(messages: Sequence[Message], event_type: str, **payload: object) -> str | None:
    """The ``ts`` of the first message among ``messages`` carrying this metadata."""
    return next((m.ts for m in messages if m.marked(event_type, **payload)), None)


def file_ts(messages: Sequence[Message], file_id: str) -> str | None:
    """The ``ts`` of the first message among ``messages`` sharing the file ``file_id``."""
    return next((m.ts for m in messages if any(f.id == file_id for f in m.files)), None)


def shared_ts(files: Sequence[SlackFile], channel_id: str) -> str | None:
    """The ``ts`` of the message that shared the first of ``files`` in ``channel_id``, when Slack says it."""
    return next((ts for f in files if (ts := f.share_ts(channel_id))), None)
