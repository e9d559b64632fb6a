"""Repeat handoffs on Zendesk: once a ticket was solved or stopped, the same startHitl input opens a new ticket."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.fake_botpress import FakeBotpress
from tests.memos import drop_start_record

from .fake_zendesk import FakeZendesk
from .test_e2e import WEBHOOK_URL, action, call, client, webhook

__all__ = ["client"]  # the fixture, shared with the end-to-end scenario


async def _started(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress
) -> tuple[dict[str, object], str]:
    """Register, link Jane, and start a handoff with an empty history; returns the input and the conversation."""
    assert (await call(client, "register", {"webhookUrl": WEBHOOK_URL}))[0] == 200
    bp_user_id = (await action(client, "createUser", {"name": "Jane Doe", "email": "jane@example.com"}))["userId"]
    start = {"userId": bp_user_id, "title": "Refund", "messageHistory": []}
    return start, (await action(client, "startHitl", start))["conversationId"]


def _ticket_of(fake_botpress: FakeBotpress, conversation_id: str) -> int:
    return int(fake_botpress.conversations[conversation_id]["tags"]["id"])


async def test_same_input_after_the_agent_solved_the_ticket_opens_a_new_ticket(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    start, first = await _started(client, fake_botpress)
    for delivery in fake_zendesk.set_status(_ticket_of(fake_botpress, first), "solved"):
        await webhook(client, delivery)
    assert fake_botpress.event_types() == ["hitlStopped"]
    second = (await action(client, "startHitl", start))["conversationId"]
    assert second != first and len(fake_zendesk.tickets) == 2
    assert fake_zendesk.tickets[_ticket_of(fake_botpress, second)].data["status"] != "solved"
    assert await action(client, "startHitl", start) == {"conversationId": second}  # a retry of the new one


async def test_same_input_after_stop_hitl_opens_a_new_ticket_even_when_the_record_expired(
    client: TestClient[web.Request, web.Application], fake_botpress: FakeBotpress, fake_zendesk: FakeZendesk
) -> None:
    start, first = await _started(client, fake_botpress)
    assert await action(client, "stopHitl", {"conversationId": first}) == {}
    # The start record expired: the old ticket still carries its key tag, which the search would find.
    await drop_start_record(client.app, str(start["userId"]))
    second = (await action(client, "startHitl", start))["conversationId"]
    assert second != first and len(fake_zendesk.tickets) == 2
    assert fake_zendesk.tickets[_ticket_of(fake_botpress, first)].data["status"] == "closed"
