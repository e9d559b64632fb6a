"""The hitl actions: createUser, startHitl and stopHitl."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from typing import Any

from bp_modules.hitl import CreateUserInput, StartHitlInput, StopHitlInput
from definition.states import HitlSessionState, HitlStartState
from definition.tags import CONVERSATION_ID_TAG, USER_CREATE_KEY_TAG, USER_EMAIL_TAG, USER_ID_TAG
from external_adapters import EndUser, ExternalUserRequest, OpenSessionRequest

from ..botpress import User
from ..errors import BotpressRuntimeError
from ..services import Deps
from .sessions import load_session, load_start, save_session, save_start
from .transcript import render_transcript
from .validation import validate

log = logging.getLogger(__name__)


async def create_user(deps: Deps, raw_input: Any) -> dict[str, Any]:
    """Link an end user: one Botpress user per email, and its helpdesk twin. Idempotent.

    Without an email each call links a new person; its Botpress user is still created retry-safely (a
    get-or-create on a random key of the call), so a lost answer repeated creates no second user.
    """
    data = validate(CreateUserInput, raw_input, "input")
    bp_user = await _end_user(deps, data)
    request = ExternalUserRequest(bp_user_id=bp_user.id, name=data.name, email=data.email, picture_url=data.picture_url)
    external_user_id = await deps.adapter.create_user(request)
    if bp_user.tags.get(USER_ID_TAG) != external_user_id:
        await deps.botpress.update_user(bp_user.id, tags={USER_ID_TAG: external_user_id})
    return {"userId": bp_user.id}


async def _end_user(deps: Deps, data: CreateUserInput) -> User:
    if not data.email:
        # Without an email nothing identifies the person: each call stands for a new user. A createUser POST
        # whose answer is lost may not be repeated; a get-or-create on a key of this call may.
        return await deps.botpress.get_or_create_user(
            tags={USER_CREATE_KEY_TAG: secrets.token_hex(16)},
            name=data.name,
            picture_url=data.picture_url,
            discriminate_by_tags=[USER_CREATE_KEY_TAG],
        )
    return await deps.botpress.get_or_create_user(
        tags={USER_EMAIL_TAG: data.email},
        name=data.name,
        picture_url=data.picture_url,
        discriminate_by_tags=[USER_EMAIL_TAG],
    )


async def start_hitl(deps: Deps, raw_input: Any) -> dict[str, Any]:
    """Open a helpdesk session and its Botpress conversation. A retried call reuses both."""
    data = validate(StartHitlInput, raw_input, "input")
    options = type(deps.adapter).parse_session_options(data.hitl_session)
    end_user = await _linked_user(deps, data.user_id)
    key = _idempotency_key(deps, raw_input)
    async with deps.services.locks.hold(f"start:{key}"):
        record = await load_start(deps.botpress, end_user.bp_user_id)
        if record is not None and record.key == key and record.conversation_id:
            return {"conversationId": record.conversation_id}
        reuse = record.external_session_id if record is not None and record.key == key else None
        external_session_id = reuse or await _open(deps, data, options, end_user, key)
        bp_conversation_id = await _link(deps, external_session_id)
        await save_start(
            deps.botpress,
            end_user.bp_user_id,
            HitlStartState(key=key, external_session_id=external_session_id, conversation_id=bp_conversation_id),
        )
    return {"conversationId": bp_conversation_id}


async def _linked_user(deps: Deps, bp_user_id: str) -> EndUser:
    user = await deps.botpress.get_user(bp_user_id)
    if user is None:
        raise BotpressRuntimeError(f"input.userId: user {bp_user_id} does not exist")
    external_user_id = user.tags.get(USER_ID_TAG)
    if not external_user_id:
        raise BotpressRuntimeError(
            f"input.userId: user {bp_user_id} is not linked to the helpdesk; call createUser first"
        )
    email = user.tags.get(USER_EMAIL_TAG)
    return EndUser(
        bp_user_id=user.id, external_user_id=external_user_id, name=user.name, email=email, picture_url=user.picture_url
    )


async def _open(deps: Deps, data: StartHitlInput, options: Any, end_user: EndUser, key: str) -> str:
    settings = deps.services.settings
    names = {end_user.bp_user_id: end_user.name or "User"}
    transcript = render_transcript(
        data.message_history, user_names=names, budget_bytes=settings.transcript_budget_bytes
    )
    request = OpenSessionRequest[Any](
        end_user=end_user,
        title=data.title,
        description=data.description,
        options=options,
        transcript=transcript,
        idempotency_key=key,
    )
    external_session_id = await deps.adapter.open_session(request)
    await save_start(
        deps.botpress, end_user.bp_user_id, HitlStartState(key=key, external_session_id=external_session_id)
    )
    return external_session_id


async def _link(deps: Deps, external_session_id: str) -> str:
    conversation = await deps.botpress.get_or_create_conversation(
        channel=deps.services.settings.renames.channel,
        tags={CONVERSATION_ID_TAG: external_session_id},
        discriminate_by_tags=[CONVERSATION_ID_TAG],
    )
    await deps.adapter.link_session(external_session_id, conversation.id)
    if await load_session(deps.botpress, conversation.id) is None:
        await save_session(deps.botpress, conversation.id, HitlSessionState(external_session_id=external_session_id))
    return conversation.id


def _idempotency_key(deps: Deps, raw_input: Any) -> str:
    installation = deps.ctx.installation
    canonical = json.dumps([installation.bot_id, installation.integration_id, raw_input], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


async def stop_hitl(deps: Deps, raw_input: Any) -> dict[str, Any]:
    """Close the session. An unknown, untagged or already closed conversation is a successful no-op."""
    data = validate(StopHitlInput, raw_input, "input")
    conversation = await deps.botpress.get_conversation(data.conversation_id)
    external_session_id = conversation.tags.get(CONVERSATION_ID_TAG) if conversation is not None else None
    if conversation is None or not external_session_id:
        log.info("stopHitl on %s: no helpdesk session, nothing to close", data.conversation_id)
        return {}
    async with deps.services.locks.hold(f"conv:{conversation.id}"):
        record = await load_session(deps.botpress, conversation.id) or HitlSessionState(
            external_session_id=external_session_id
        )
        if not record.closed:
            await deps.adapter.close_session(external_session_id)
            await save_session(deps.botpress, conversation.id, record.model_copy(update={"closed": True}))
    return {}
