"""startHitl on Zendesk, failing at each of its steps: a retry opens no second ticket and links one conversation.

The steps of a new handoff: the start record's key (a local write), the ticket's create (its look-up skipped: the
key is new), the record's ticket id (local), the conversation's get-or-create, the link PUT, the record's
conversation (local). Each one fails once here, then the same input is retried.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from definition.states import HitlStartState
from integration.hitl import actions, sessions
from tests.contracts.lost_answers import lose_answers, read_timeout
from tests.contracts.zendesk import ZendeskMockRouter
from tests.factories import action_body
from tests.fake_botpress import FakeBotpress

from .fake_zendesk import FakeZendesk
from .test_e2e import WEBHOOK_URL, action, call, client

__all__ = ["client"]  # the fixture, shared with the end-to-end scenario
TICKETS = r"^/api/v2/tickets(\.json)?$"
TICKET = r"^/api/v2/tickets/\d+(\.json)?$"


async def _start_input(client: TestClient[web.Request, web.Application]) -> dict[str, Any]:
    assert (await call(client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    bp_user_id = (await action(client, "createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    return {"userId": bp_user_id, "title": "Refund", "messageHistory": []}


async def _retried(client: TestClient[web.Request, web.Application], start: dict[str, Any]) -> str:
    """The conversation of ``start`` once a retry succeeds (the first attempt is expected to have failed)."""
    conversation_id: str = (await action(client, "startHitl", start))["conversationId"]
    return conversation_id


def _one_ticket_linked(fake_zendesk: FakeZendesk, fake_botpress: FakeBotpress, conversation_id: str) -> None:
    ((ticket_id, ticket),) = fake_zendesk.tickets.items()
    assert list(fake_botpress.conversations) == [conversation_id]
    assert ticket.data["external_id"] == conversation_id
    assert fake_botpress.conversations[conversation_id]["tags"]["id"] == str(ticket_id)


async def test_a_lost_create_answer_of_a_new_key_is_checked_not_repeated(
    client: TestClient[web.Request, web.Application],
    fake_zendesk: FakeZendesk,
    fake_botpress: FakeBotpress,
    zendesk_api: ZendeskMockRouter,
) -> None:
    start = await _start_input(client)
    lose_answers(zendesk_api).lose("POST", TICKETS, error=read_timeout)
    conversation_id = (await action(client, "startHitl", start))["conversationId"]  # checked by external_id
    _one_ticket_linked(fake_zendesk, fake_botpress, conversation_id)


@pytest.mark.parametrize("step", ["key", "ticket id", "conversation"])
async def test_a_crash_at_a_local_write_is_resumed_with_one_ticket(
    client: TestClient[web.Request, web.Application],
    fake_zendesk: FakeZendesk,
    fake_botpress: FakeBotpress,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    start = await _start_input(client)
    saved = sessions.save_start

    async def dies_at_the_step(coordinator: Any, memo_key: str, record: HitlStartState) -> None:
        reached = "conversation" if record.conversation_id else "ticket id" if record.external_session_id else "key"
        if reached == step:
            raise RuntimeError(f"killed before saving the {step}")
        await saved(coordinator, memo_key, record)

    with monkeypatch.context() as patched:
        patched.setattr(actions, "save_start", dies_at_the_step)
        status, _ = await call(client, "action_triggered", action_body("startHitl", start))
    assert status == 500
    _one_ticket_linked(fake_zendesk, fake_botpress, await _retried(client, start))


@pytest.mark.parametrize("route", ["conversation", "link"])
async def test_a_failed_upstream_step_after_the_create_is_resumed_with_one_ticket(
    client: TestClient[web.Request, web.Application],
    fake_zendesk: FakeZendesk,
    fake_botpress: FakeBotpress,
    zendesk_api: ZendeskMockRouter,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    start = await _start_input(client)
    if route == "link":
        lose_answers(zendesk_api).fail("PUT", TICKET, httpx.Response(422, json={"error": "RecordInvalid"}))
        status, _ = await call(client, "action_triggered", action_body("startHitl", start))
    else:
        with monkeypatch.context() as patched:
            patched.setattr(actions, "_link", _refused)
            status, _ = await call(client, "action_triggered", action_body("startHitl", start))
    assert status in (400, 500) and len(fake_zendesk.tickets) == 1
    _one_ticket_linked(fake_zendesk, fake_botpress, await _retried(client, start))


async def _refused(deps: Any, external_session_id: str) -> str:
    raise RuntimeError("the conversation's get-or-create failed")
