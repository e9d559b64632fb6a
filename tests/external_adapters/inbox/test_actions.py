"""Agent actions: reply, transfer, resolve, labels, notes, templates, outbound, pause, views."""

from __future__ import annotations

import pytest

from external_adapters.inbox.errors import Conflict, Forbidden, InvalidInput
from external_adapters.inbox.models import QueueFilter, SessionState
from external_adapters.inbox.service import InboxService

from .conftest import add_agent, events, open_session


async def test_reply_requires_the_session_to_be_yours(service: InboxService) -> None:
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob")
    session_id = await open_session(service)
    with pytest.raises(Conflict, match="claim it first"):
        await service.actions.reply(alice, session_id, "hi")
    await service.actions.claim(alice, session_id)
    with pytest.raises(Forbidden):
        await service.actions.reply(bob, session_id, "hi")
    message = await service.actions.reply(alice, session_id, "  Hello Jane  ")
    assert message.text == "Hello Jane" and message.direction == "agent"
    last = (await events(service, session_id))[-1]
    assert last["type"] == "agent_message" and last["messageId"] == message.id
    assert last["agent"]["id"] == alice.id and last["message"] == {"type": "text", "payload": {"text": "Hello Jane"}}


async def test_transfer_reassigns_and_tells_the_user(service: InboxService) -> None:
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob", groups=("x",))
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    session = await service.actions.transfer(alice, session_id, "bob@example.com")
    assert session.assigned_agent_id == bob.id
    # The end user reads "You are being transferred to Bob." before the assignment makes the plugin say Bob joined.
    tail = (await events(service, session_id))[-2:]
    assert tail[0]["message"]["payload"]["text"] == "You are being transferred to Bob."
    assert tail[1]["type"] == "agent_assigned" and tail[1]["agent"]["id"] == bob.id
    with pytest.raises(InvalidInput):
        await service.actions.transfer(bob, session_id, "nobody@example.com")


async def test_a_transfer_tells_its_target_live_and_only_them(service: InboxService) -> None:
    alice, bob = await add_agent(service, "alice"), await add_agent(service, "bob")
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    async with service.hub.subscribe(bob.id) as bobs, service.hub.subscribe(alice.id) as alices:
        await service.actions.transfer(alice, session_id, bob.id)
        bob_events = [bobs.queue.get_nowait() for _ in range(bobs.queue.qsize())]
        alice_types = [alices.queue.get_nowait().type for _ in range(alices.queue.qsize())]
    [transfer] = [e for e in bob_events if e.type == "transfer"]
    assert transfer.data == {
        "sessionId": session_id,
        "from": {"id": alice.id, "name": "Alice"},
        "to": {"id": bob.id, "name": "Bob"},
        "contactName": "Jane Doe",
    }
    assert "transfer" not in alice_types


async def test_resolve_closes_and_tells_botpress_once(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    assert (await service.actions.resolve(alice, session_id)).state is SessionState.CLOSED
    await service.actions.resolve(alice, session_id)
    closed = [e for e in await events(service, session_id) if e["type"] == "session_closed"]
    assert [e["reason"] for e in closed] == ["resolved"]


async def test_stop_from_the_bot_closes_without_an_event(service: InboxService) -> None:
    session_id = await open_session(service)
    await service.intake.close_by_bot(session_id)
    await service.intake.close_by_bot(session_id)
    await service.intake.close_by_bot("ses_missing")
    assert (await service.queries.all_sessions())[0].close_reason == "stopped by bot"
    assert await events(service, session_id) == []


async def test_labels_come_from_the_configured_list(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    assert (await service.actions.set_labels(alice, session_id, ["urgent", "billing"])).labels == ["billing", "urgent"]
    with pytest.raises(InvalidInput, match="not configured: made-up"):
        await service.actions.set_labels(alice, session_id, ["made-up"])
    assert [i.session.id for i in await service.queries.queue(alice, QueueFilter(label="urgent"))] == [session_id]


async def test_notes_stay_with_the_contact_across_sessions(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    first = await open_session(service, "k1")
    contact_id = (await service.queries.detail(alice, first))["contact"]["id"]
    await service.actions.add_note(alice, contact_id, "Prefers e-mail; card 4111 1111 1111 1111")
    second = await open_session(service, "k2")
    notes = (await service.queries.detail(alice, second))["notes"]
    assert [(n["agent_name"], n["text"]) for n in notes] == [("Alice", "Prefers e-mail; card [card number redacted]")]


async def test_templates_are_filled_in(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    assert await service.queries.templates(alice, "Jane") == [
        {"shortcut": "hello", "title": "hello", "text": "Hello Jane, I am Alice."}
    ]


async def test_outbound_goes_to_the_last_linked_conversation(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    old = await open_session(service, "k1")
    contact_id = (await service.queries.detail(alice, old))["contact"]["id"]
    with pytest.raises(Conflict, match="no conversation"):
        await service.actions.outbound(alice, contact_id, "Hi again")
    await service.intake.link(old, "conv_old")
    await service.actions.resolve(alice, old)
    message = await service.actions.outbound(alice, contact_id, "Your order shipped")
    assert message.session_id == old
    last = (await events(service, old))[-1]
    assert last["outbound"] is True and last["message"]["payload"]["text"] == "Your order shipped"


async def test_paused_sessions_hold_agent_messages_until_unpaused(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    await service.actions.claim(alice, session_id)
    before = len(await events(service, session_id))
    assert (await service.actions.set_paused(session_id, True)).paused
    held = await service.actions.reply(alice, session_id, "held back")
    assert held.held and len(await events(service, session_id)) == before
    await service.actions.set_paused(session_id, False)
    last = (await events(service, session_id))[-1]
    assert last["messageId"] == held.id and last["message"]["payload"]["text"] == "held back"
    detail = await service.queries.detail(alice, session_id)
    assert not detail["messages"][-1]["held"]


async def test_saved_views(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    view = await service.queries.save_view(alice, "Urgent", {"label": "urgent", "bogus": "x"})
    assert view.filters == {"label": "urgent"}
    assert [v.name for v in await service.queries.views(alice)] == ["Urgent"]
    await service.queries.delete_view(alice, view.id)
    assert await service.queries.views(alice) == []


async def test_status_changes_are_validated(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    assert (await service.actions.set_status(alice, "busy")).status == "busy"
    with pytest.raises(InvalidInput, match="status"):
        await service.actions.set_status(alice, "napping")


async def test_export_contains_the_redacted_transcript(service: InboxService) -> None:
    session_id = await open_session(service, transcript=(("user", "text", {"text": "card 4111111111111111"}),))
    exported = await service.queries.export(session_id)
    assert "[transcript] user: card [card number redacted]" in exported["text"]
