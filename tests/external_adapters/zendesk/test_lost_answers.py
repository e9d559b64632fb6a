"""Every Zendesk write whose answer is lost after Zendesk committed it: never done twice.

The fake commits the request (a ticket, a trigger... exists), then the client gets a read timeout or a reset
instead of the answer (tests/contracts/lost_answers.py). A write that is not idempotent is then either found
by its key and the operation succeeds, or it fails cleanly without a repeat; an idempotent one is repeated.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from bp_modules.hitl import parse_hitl_payload
from external_adapters import (
    EndUser,
    ExternalUserRequest,
    OpenSessionRequest,
    OutboundMessage,
    Transcript,  # OutcomeUnknownError is one; so was the old error
)
from external_adapters.zendesk import ZendeskAdapter
from external_adapters.zendesk.subscription import STATE_NAME
from tests.contracts.lost_answers import ErrorFactory, LostAnswers, lose_answers, read_timeout, reset
from tests.contracts.zendesk import ZendeskMockRouter

from .conftest import MEDIA_URL, WEBHOOK_URL, Built
from .fake_zendesk import FakeZendesk

LOSSES = pytest.mark.parametrize("error", [read_timeout, reset], ids=["read-timeout", "reset"])
TICKET = r"^/api/v2/tickets/\d+(\.json)?$"


@pytest.fixture
def lost(zendesk_api: ZendeskMockRouter, fake_zendesk: FakeZendesk) -> LostAnswers:
    """Answers to lose, on the routes of the fake Zendesk."""
    return lose_answers(zendesk_api)


def _sent(router: ZendeskMockRouter, method: str, path: str) -> int:
    return sum(1 for call in router.calls if call.request.method == method and call.request.url.path == path)


async def _user(built: Built) -> str:
    return await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))


def _open_request(jane: str, *, new_key: bool = False) -> OpenSessionRequest[Any]:
    return OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_01", external_user_id=jane, name="Jane"),
        title="Need help",
        options=ZendeskAdapter.parse_session_options({}),
        transcript=Transcript(text="", markdown="", html=""),
        idempotency_key="start-1",
        new_key=new_key,
    )


@LOSSES
@pytest.mark.parametrize("new_key", [False, True], ids=["resumed-key", "new-key"])
async def test_a_ticket_whose_answer_was_lost_is_found_by_its_key_not_opened_twice(
    build: Any,
    fake_zendesk: FakeZendesk,
    lost: LostAnswers,
    zendesk_api: ZendeskMockRouter,
    error: ErrorFactory,
    new_key: bool,
) -> None:
    built: Built = build()
    jane = await _user(built)
    lost.lose("POST", r"^/api/v2/tickets(\.json)?$", error=error)

    # A new key skips the look-up before the create, not the check after a lost answer.
    ticket_id = await built.adapter.open_session(_open_request(jane, new_key=new_key))

    assert list(fake_zendesk.tickets) == [int(ticket_id)]
    assert len(lost.lost) == 1 and _sent(zendesk_api, "POST", "/api/v2/tickets") == 1


async def test_a_new_key_is_not_looked_up_before_the_create_and_a_resumed_one_is(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    jane = await _user(built)
    sent = len(zendesk_api.calls)
    await built.adapter.open_session(_open_request(jane, new_key=True))
    assert [call.request.method for call in zendesk_api.calls][sent:] == ["POST"]
    sent = len(zendesk_api.calls)
    resumed = _open_request(jane).model_copy(update={"idempotency_key": "start-2"})
    await built.adapter.open_session(resumed)
    assert [call.request.method for call in zendesk_api.calls][sent:] == ["GET", "GET", "POST"]


async def test_a_ticket_create_that_provably_did_not_happen_is_repeated(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    jane = await _user(built)
    lost.fail("POST", r"^/api/v2/tickets(\.json)?$", httpx.Response(500, json={"error": "InternalError"}))

    ticket_id = await built.adapter.open_session(_open_request(jane))

    assert list(fake_zendesk.tickets) == [int(ticket_id)]
    assert _sent(zendesk_api, "POST", "/api/v2/tickets") == 2


@LOSSES
async def test_a_webhook_and_triggers_whose_answers_were_lost_are_found_not_created_twice(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, error: ErrorFactory
) -> None:
    built: Built = build()
    lost.lose("POST", r"^/api/v2/webhooks$", error=error).lose("POST", r"^/api/v2/triggers", times=3, error=error)

    await built.adapter.subscribe(WEBHOOK_URL)

    assert len(lost.lost) == 4
    (webhook_id,) = fake_zendesk.webhooks
    assert len(fake_zendesk.triggers) == 3
    state: dict[str, Any] = built.state.items[STATE_NAME]
    assert state["webhook_id"] == webhook_id
    assert sorted(state["trigger_ids"]) == sorted(fake_zendesk.triggers)


@LOSSES
async def test_an_upload_whose_answer_was_lost_is_not_repeated_and_the_media_goes_as_a_link(
    build: Any,
    fake_zendesk: FakeZendesk,
    lost: LostAnswers,
    zendesk_api: ZendeskMockRouter,
    media_host: respx.MockRouter,
    error: ErrorFactory,
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await _user(built)
    ticket_id = await built.adapter.open_session(_open_request(jane))
    lost.lose("POST", r"^/api/v2/uploads", error=error)
    image = OutboundMessage(
        external_session_id=ticket_id,
        author_external_id=jane,
        message=parse_hitl_payload("image", {"imageUrl": f"{MEDIA_URL}/cat.png"}),
        bp_message_id="msg_1",
    )

    await built.adapter.send_message(image)

    assert _sent(zendesk_api, "POST", "/api/v2/uploads") == 1
    last = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert last["body"] == f"[Image] {MEDIA_URL}/cat.png" and last["attachments"] == []


@LOSSES
async def test_a_comment_whose_answer_was_lost_is_found_by_its_message_id_not_posted_twice(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter, error: ErrorFactory
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await _user(built)
    ticket_id = await built.adapter.open_session(_open_request(jane))
    before = len(fake_zendesk.tickets[int(ticket_id)].comments)
    lost.lose("PUT", TICKET, error=error)
    text = OutboundMessage(
        external_session_id=ticket_id,
        author_external_id=jane,
        message=parse_hitl_payload("text", {"text": "maybe"}),
        bp_message_id="msg_1",
    )

    comment_id = await built.adapter.send_message(text)

    comments = fake_zendesk.tickets[int(ticket_id)].comments
    assert len(comments) == before + 1 and str(comments[-1]["id"]) == comment_id
    assert _sent(zendesk_api, "PUT", f"/api/v2/tickets/{ticket_id}") == 1 and len(lost.lost) == 1


async def test_a_comment_update_that_provably_did_not_happen_is_sent_again(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await _user(built)
    ticket_id = await built.adapter.open_session(_open_request(jane))
    lost.fail("PUT", TICKET, httpx.Response(500, json={"error": "InternalError"}))
    text = OutboundMessage(
        external_session_id=ticket_id,
        author_external_id=jane,
        message=parse_hitl_payload("text", {"text": "again"}),
        bp_message_id="msg_1",
    )

    await built.adapter.send_message(text)

    assert [c["body"] for c in fake_zendesk.tickets[int(ticket_id)].comments].count("again") == 1
    assert _sent(zendesk_api, "PUT", f"/api/v2/tickets/{ticket_id}") == 2


@LOSSES
async def test_idempotent_writes_whose_answers_were_lost_are_repeated_with_one_effect(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter, error: ErrorFactory
) -> None:
    built: Built = build()
    lost.lose("POST", r"^/api/v2/users/create_or_update", error=error)
    jane = await _user(built)
    assert [u["id"] for u in fake_zendesk.users.values() if u["external_id"] == "user_01"] == [int(jane)]

    ticket_id = await built.adapter.open_session(_open_request(jane))
    lost.lose("PUT", TICKET, times=2, error=error)
    await built.adapter.link_session(ticket_id, "conv_01")  # PUT external_id
    await built.adapter.close_session(ticket_id)  # PUT status
    ticket = fake_zendesk.tickets[int(ticket_id)]
    assert (ticket.data["external_id"], ticket.data["status"]) == ("conv_01", "solved")
    assert len(lost.lost) == 3 and len(ticket.comments) == 1


async def test_a_leftover_trigger_of_another_webhook_is_not_taken_for_a_lost_one(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    built.state.items.clear()  # a crash forgot the first registration: its webhook and triggers are leftovers
    leftovers = set(fake_zendesk.triggers)
    lost.fail("POST", r"^/api/v2/triggers", httpx.Response(500, json={"error": "InternalError"}))

    await built.adapter.subscribe(WEBHOOK_URL)

    state: dict[str, Any] = built.state.items[STATE_NAME]
    assert len(state["trigger_ids"]) == 3 and not leftovers & set(state["trigger_ids"])
    for trigger_id in state["trigger_ids"]:
        assert fake_zendesk.triggers[trigger_id]["actions"][0]["value"][0] == state["webhook_id"]


@LOSSES
async def test_deletes_whose_answers_were_lost_are_repeated_and_their_404_counts_as_done(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter, error: ErrorFactory
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    for trigger_id in fake_zendesk.triggers:
        lost.lose("DELETE", rf"^/api/v2/triggers/{trigger_id}$", error=error)
    lost.lose("DELETE", r"^/api/v2/webhooks/", error=error)

    await built.adapter.unsubscribe(WEBHOOK_URL)

    assert fake_zendesk.webhooks == {} and fake_zendesk.triggers == {} and STATE_NAME not in built.state.items
    deletes = [call.optional_response for call in zendesk_api.calls if call.request.method == "DELETE"]
    assert len(lost.lost) == 4 and [r.status_code for r in deletes if r is not None] == [404] * 4


async def test_a_lost_comment_on_a_ticket_with_hundreds_of_audits_is_still_found(
    build: Any, fake_zendesk: FakeZendesk, lost: LostAnswers, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await _user(built)
    ticket_id = await built.adapter.open_session(_open_request(jane))
    ticket = fake_zendesk.tickets[int(ticket_id)]
    ticket.audits += [{"id": 8_000_000 + n, "ticket_id": ticket.id, "events": [], "metadata": {}} for n in range(250)]
    lost.lose("PUT", TICKET)
    text = OutboundMessage(
        external_session_id=ticket_id,
        author_external_id=jane,
        message=parse_hitl_payload("text", {"text": "late"}),
        bp_message_id="msg_1",
    )

    comment_id = await built.adapter.send_message(text)

    assert [c["body"] for c in ticket.comments].count("late") == 1 and str(ticket.comments[-1]["id"]) == comment_id
    assert _sent(zendesk_api, "GET", f"/api/v2/tickets/{ticket_id}/audits") == 3  # the first and the last two pages
