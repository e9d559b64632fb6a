"""What startHitl keeps in a test server's coordinator memo: the end users createUser linked, and the start records."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from coordination import Coordinator
from definition.states import HitlStartState
from integration.app_keys import BACKEND

from .contracts.botpress import TEST_BOT_ID


def memo_key(bp_user_id: str) -> str:
    """The memo key startHitl keeps the user's record under (``start-record:<bot>:<bp user>``)."""
    return f"start-record:{TEST_BOT_ID}:{bp_user_id}"


def coordinator_of(app: web.Application) -> Coordinator:
    """The coordinator a test server shares with its workers."""
    return app[BACKEND].coordinator


async def start_record(app: web.Application, bp_user_id: str) -> HitlStartState | None:
    """The user's start record as stored, or ``None``."""
    stored = await coordinator_of(app).memo_get(memo_key(bp_user_id))
    return None if stored is None else HitlStartState.model_validate_json(stored)


async def change_start_record(app: web.Application, bp_user_id: str, **changes: Any) -> None:
    """Rewrite the user's start record with ``changes`` (field names), as if an attempt had stopped earlier."""
    record = await start_record(app, bp_user_id)
    assert record is not None, f"user {bp_user_id} has no start record"
    changed = record.model_copy(update=changes).model_dump_json(by_alias=True, exclude_none=True)
    await coordinator_of(app).memo_set(memo_key(bp_user_id), changed, 3600)


async def drop_start_record(app: web.Application, bp_user_id: str) -> None:
    """Let the user's start record expire now, as it does a day after its last write."""
    await coordinator_of(app).memo_set(memo_key(bp_user_id), "", -1)


def end_user_key(bp_user_id: str) -> str:
    """The memo key createUser leaves a linked end user under (``user:<bot>:<bp user>``)."""
    return f"user:{TEST_BOT_ID}:{bp_user_id}"


async def forget_end_user(app: web.Application, bp_user_id: str) -> None:
    """Let the memo of a linked end user expire now (a TTL ran out, or another data folder linked it)."""
    await coordinator_of(app).memo_set(end_user_key(bp_user_id), "", -1)


async def cached_end_user(app: web.Application, bp_user_id: str) -> str | None:
    """The memo's entry for a linked end user (JSON), or ``None``."""
    return await coordinator_of(app).memo_get(end_user_key(bp_user_id))


async def remember_session_conversation(app: web.Application, session_id: str, conversation: dict[str, Any]) -> None:
    """Keep ``conversation`` (the fake's record) as the memo's copy for helpdesk session ``session_id``, as startHitl
    does when it links a session: a test that changes the record afterwards must change the memo's copy too."""
    key = f"session-conv:{TEST_BOT_ID}:{session_id}"
    await coordinator_of(app).memo_set(key, json.dumps(conversation), 3600)
