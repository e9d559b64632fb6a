"""The end user a session is opened for: as createUser linked it, shared with startHitl through the memo.

createUser has just read the Botpress user (its get-or-create answers it) and set its helpdesk id: it leaves the
:class:`EndUser` in the coordinator's memo (``user:<bot>:<bp user>``), so the startHitl that follows, on any
worker, needs no ``GET /v1/chat/users/{id}``. A miss (expired, another data folder, a user linked before this
version, or a TTL of 0) reads the user as before.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from definition.tags import USER_EMAIL_TAG, USER_ID_TAG
from external_adapters import EndUser

from ..botpress import User
from ..errors import BotpressRuntimeError
from ..services import Deps
from .once import end_user_memo

log = logging.getLogger(__name__)


def end_user_of(user: User) -> EndUser | None:
    """The end user a linked Botpress user stands for; ``None`` while it has no helpdesk id."""
    external_user_id = user.tags.get(USER_ID_TAG)
    if not external_user_id:
        return None
    email = user.tags.get(USER_EMAIL_TAG)
    return EndUser(
        bp_user_id=user.id, external_user_id=external_user_id, name=user.name, email=email, picture_url=user.picture_url
    )


async def remember_end_user(deps: Deps, end_user: EndUser) -> None:
    """Share a just-linked end user with every worker for the author cache's TTL (``0``: never kept).

    A local write; it replaces what an earlier createUser of the same user left, so a relink is seen at once.
    """
    ttl = deps.services.settings.author_cache_seconds
    if ttl > 0:
        key = end_user_memo(deps.ctx, end_user.bp_user_id)
        await deps.services.coordinator.memo_set(key, end_user.model_dump_json(), ttl)


async def linked_user(deps: Deps, bp_user_id: str) -> EndUser:
    """The end user of ``bp_user_id``: from the memo createUser left, else read from Botpress.

    Raises :class:`BotpressRuntimeError` for a user that does not exist or is not linked to the helpdesk.
    """
    cached = await cached_end_user(deps, bp_user_id)
    if cached is not None:
        return cached
    user = await deps.botpress.get_user(bp_user_id)
    if user is None:
        raise BotpressRuntimeError(f"input.userId: user {bp_user_id} does not exist")
    end_user = end_user_of(user)
    if end_user is None:
        raise BotpressRuntimeError(
            f"input.userId: user {bp_user_id} is not linked to the helpdesk; call createUser first"
        )
    await remember_end_user(deps, end_user)
    return end_user


async def cached_end_user(deps: Deps, bp_user_id: str) -> EndUser | None:
    """The end user createUser left in the memo, or ``None`` (not kept, expired, unreadable): a local read only."""
    if deps.services.settings.author_cache_seconds <= 0:
        return None
    stored = await deps.services.coordinator.memo_get(end_user_memo(deps.ctx, bp_user_id))
    if stored is None:
        return None
    try:
        return EndUser.model_validate_json(stored)
    except ValidationError:
        log.info("cached end user %s is unreadable; reading it from Botpress", bp_user_id)
        return None
