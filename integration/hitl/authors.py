"""The author of a message the bot relays to the helpdesk: its helpdesk id, and how it looks (name, picture).

The display costs no upstream call: it comes from the user the runtime sends with the message when that user is
the author, else from the Botpress user read for the helpdesk id (when that read happens anyway), else from the end
user createUser left in the coordinator's memo. None of them at hand: ``None`` (the adapter shows its default).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from definition.tags import USER_ID_TAG
from external_adapters import AuthorDisplay

from ..botpress import User
from ..services import Deps
from .end_users import cached_end_user
from .once import author_memo


class Sender(BaseModel):
    """The ``user`` of a ``message_created`` body: who the runtime says wrote the message (only what we read)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    tags: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    picture_url: str | None = Field(default=None, alias="pictureUrl")


async def message_author(deps: Deps, bp_user_id: str, sender: Sender) -> tuple[str | None, AuthorDisplay | None]:
    """The helpdesk id of the author (``None``: a system author, such as the bot) and its display.

    A found id is shared with every worker through the coordinator's memo for the configured TTL (``0``: never
    kept); "not linked" is never kept, so a user linked by createUser a moment later is an author at once.
    """
    ttl = deps.services.settings.author_cache_seconds
    key = author_memo(deps.ctx, bp_user_id)
    external_id = await deps.services.coordinator.memo_get(key) if ttl > 0 else None
    read: User | None = None
    if external_id is None:
        external_id, read = await _look_up(deps, bp_user_id, sender)
        if external_id is not None and ttl > 0:
            await deps.services.coordinator.memo_set(key, external_id, ttl)
    if external_id is None:
        return None, None  # a system author has no helpdesk user: nothing of it is shown as an author either
    if read is not None:
        return external_id, _display(read.name, read.picture_url)
    return external_id, await _known_display(deps, bp_user_id, sender)


async def _look_up(deps: Deps, bp_user_id: str, sender: Sender) -> tuple[str | None, User | None]:
    if sender.id == bp_user_id and sender.tags.get(USER_ID_TAG):
        return sender.tags[USER_ID_TAG], None
    user = await deps.botpress.get_user(bp_user_id)
    return (user.tags.get(USER_ID_TAG) if user is not None else None), user


async def _known_display(deps: Deps, bp_user_id: str, sender: Sender) -> AuthorDisplay | None:
    if sender.id == bp_user_id and (display := _display(sender.name, sender.picture_url)):
        return display
    end_user = await cached_end_user(deps, bp_user_id)
    return _display(end_user.name, end_user.picture_url) if end_user is not None else None


def _display(name: str | None, picture_url: str | None) -> AuthorDisplay | None:
    return AuthorDisplay(name=name, picture_url=picture_url) if name or picture_url else None
