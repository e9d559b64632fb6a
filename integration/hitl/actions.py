"""The hitl actions: createUser, startHitl and stopHitl."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from bp_modules.hitl import CreateUserInput, StopHitlInput
from definition.states import HitlSessionState, HitlStartState
from definition.tags import CONVERSATION_ID_TAG, USER_CREATE_KEY_TAG, USER_EMAIL_TAG, USER_ID_TAG
from external_adapters import EndUser, ExternalUserRequest, OpenSessionRequest

from ..botpress import User
from ..services import Deps
from .end_users import end_user_of, linked_user, remember_end_user
from .history import StartRequest, parse_start_input
from .input_hash import answers, input_hash
from .lookups import remember_conversation
from .once import conversation_lock, start_lock, start_record_memo
from .sessions import is_closed, load_session, load_start, save_session, save_start
from .transcript import render_transcript
from .validation import validate

log = logging.getLogger(__name__)
# Parametrised once: pydantic keeps `OpenSessionRequest[Any]` only weakly, and built it anew on every startHitl.
_OpenRequest = OpenSessionRequest[Any]


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
    linked = bp_user.model_copy(update={"tags": {**bp_user.tags, USER_ID_TAG: external_user_id}})
    await remember_end_user(deps, _linked(linked))
    return {"userId": bp_user.id}


def _linked(user: User) -> EndUser:
    end_user = end_user_of(user)
    assert end_user is not None, "the user was just tagged with its helpdesk id"
    return end_user


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
    """Open a helpdesk session and its Botpress conversation.

    Retry-safe: a call with the same input resumes the user's start record while its session is open (same
    session key, same conversation); once that session closed, the same input is a new handoff. The key is
    saved (in the coordinator's memo: durable, shared by the workers) before the helpdesk opens anything and the
    adapter opens at most one session per key, so a crash or a lost answer in between is resumed without a
    second session. The user's start lock is held across every worker, so two workers never begin two records
    for one call. Upstream, a new handoff is the ticket's create, the conversation's get-or-create and the link.
    """
    request = parse_start_input(raw_input)
    options = type(deps.adapter).parse_session_options(request.data.hitl_session)
    end_user = await linked_user(deps, request.data.user_id)
    call_hash = input_hash(deps.ctx.installation, raw_input)
    memo_key = start_record_memo(deps.ctx, end_user.bp_user_id)
    # Across every worker: a second call waits here, then finds the first one's record and its conversation.
    async with deps.services.coordinator.lock(start_lock(deps.ctx, end_user.bp_user_id)):
        record = await _resumable(deps, memo_key, call_hash, raw_input)
        if record is not None and record.conversation_id:
            return {"conversationId": record.conversation_id}
        start = _Start(memo_key, record or await _begin(deps, memo_key, call_hash), new_key=record is None)
        bp_conversation_id = await _open_and_link(deps, request, options, end_user, start)
    return {"conversationId": bp_conversation_id}


@dataclass(frozen=True)
class _Start:
    """The start record being completed, where it is kept, and whether its key was minted by this very call."""

    memo_key: str
    record: HitlStartState
    new_key: bool


async def _resumable(deps: Deps, memo_key: str, call_hash: str, raw_input: Any) -> HitlStartState | None:
    """The user's start record if it answers this input and its session is not known to be closed."""
    record = await load_start(deps.services.coordinator, memo_key)
    if record is None or not answers(record.input_hash, call_hash, deps.ctx.installation, raw_input):
        return None
    if record.conversation_id and await is_closed(deps.botpress, record.conversation_id):
        return None
    return record


async def _begin(deps: Deps, memo_key: str, input_hash: str) -> HitlStartState:
    """A new session's record under a fresh key, saved before the helpdesk opens anything (so a crash resumes it)."""
    record = HitlStartState(input_hash=input_hash, session_key=secrets.token_hex(16))
    await save_start(deps.services.coordinator, memo_key, record)
    return record


async def _open_and_link(deps: Deps, request: StartRequest, options: Any, end_user: EndUser, start: _Start) -> str:
    """Open the session unless the record already names it, link its conversation, and complete the record.

    The record is completed only once the link is made: a crash before leaves it without a conversation, and the
    retry links again (a get-or-create and a PUT, both idempotent).
    """
    external_session_id = start.record.external_session_id or await _open(deps, request, options, end_user, start)
    bp_conversation_id = await _link(deps, external_session_id)
    done = {"external_session_id": external_session_id, "conversation_id": bp_conversation_id}
    await save_start(deps.services.coordinator, start.memo_key, start.record.model_copy(update=done))
    return bp_conversation_id


async def _open(deps: Deps, request: StartRequest, options: Any, end_user: EndUser, start: _Start) -> str:
    """Open the helpdesk session under the record's key, then save its id in the record."""
    settings = deps.services.settings
    names = {end_user.bp_user_id: end_user.name or "User"}
    # Validates the history items it reads (a malformed one is a 400 here, before the helpdesk is called).
    transcript = render_transcript(request.history, user_names=names, budget_bytes=settings.transcript_budget_bytes)
    open_request = _OpenRequest(
        end_user=end_user,
        title=request.data.title,
        description=request.data.description,
        options=options,
        transcript=transcript,
        idempotency_key=start.record.session_key,
        new_key=start.new_key,
    )
    external_session_id = await deps.adapter.open_session(open_request)
    opened = start.record.model_copy(update={"external_session_id": external_session_id})
    await save_start(deps.services.coordinator, start.memo_key, opened)
    return external_session_id


async def _link(deps: Deps, external_session_id: str) -> str:
    """The session's Botpress conversation (get-or-create on its ``id`` tag), linked on the helpdesk side.

    No ``hitlSession`` record is written here: webhooks and stopHitl take a missing one for the default record of
    the session (its id, no agent, open), so the first event's read-modify-write creates it, under the lock.
    """
    conversation = await deps.botpress.get_or_create_conversation(
        channel=deps.services.settings.renames.channel,
        tags={CONVERSATION_ID_TAG: external_session_id},
        discriminate_by_tags=[CONVERSATION_ID_TAG],
    )
    await deps.adapter.link_session(external_session_id, conversation.id)
    # The session's first helpdesk event then looks no conversation up (a local memo write, not an upstream call).
    await remember_conversation(deps, external_session_id, conversation)
    return conversation.id


async def stop_hitl(deps: Deps, raw_input: Any) -> dict[str, Any]:
    """Close the session. An unknown, untagged or already closed conversation is a successful no-op.

    Retry-safe: closing is idempotent on the helpdesk, and the ``closed`` write is made under the conversation's
    lock across workers, so a webhook applied at the same time on another worker loses none of its writes.
    """
    data = validate(StopHitlInput, raw_input, "input")
    conversation = await deps.botpress.get_conversation(data.conversation_id)
    external_session_id = conversation.tags.get(CONVERSATION_ID_TAG) if conversation is not None else None
    if conversation is None or not external_session_id:
        log.info("stopHitl on %s: no helpdesk session, nothing to close", data.conversation_id)
        return {}
    async with deps.services.coordinator.lock(conversation_lock(deps.ctx, conversation.id)):
        record = await load_session(deps.botpress, conversation.id) or HitlSessionState(
            external_session_id=external_session_id
        )
        if not record.closed:
            await deps.adapter.close_session(external_session_id)
            await save_session(deps.botpress, conversation.id, record.model_copy(update={"closed": True}))
    return {}
