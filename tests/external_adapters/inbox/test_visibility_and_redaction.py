"""Visibility by rule tags and contact tags; redaction before storage."""

from __future__ import annotations

import pytest

from external_adapters.inbox.errors import NotFound
from external_adapters.inbox.models import QueueFilter
from external_adapters.inbox.service import InboxService

from .conftest import add_agent, open_session


async def test_rule_tags_limit_the_queue_to_matching_groups(service: InboxService) -> None:
    billing = await add_agent(service, "bill", groups=("billing",))
    sales = await add_agent(service, "sally", groups=("sales",))
    tagged = await open_session(service, "k1", ruleTags=["billing"])
    open_to_all = await open_session(service, "k2", email="joe@example.com")
    assert {i.session.id for i in await service.queries.queue(billing, QueueFilter())} == {tagged, open_to_all}
    assert {i.session.id for i in await service.queries.queue(sales, QueueFilter())} == {open_to_all}
    with pytest.raises(NotFound):
        await service.queries.detail(sales, tagged)


async def test_tags_added_later_change_who_sees_the_session(service: InboxService) -> None:
    admin = await service.agents.find("admin@example.com")
    sales = await add_agent(service, "sally", groups=("sales",))
    assert admin is not None
    session_id = await open_session(service)
    await service.actions.set_rule_tags(admin, session_id, ["vip"])
    assert await service.queries.queue(sales, QueueFilter()) == []
    await service.agents.set_groups(sales.id, ["sales", "vip"])
    sales = await service.agents.get(sales.id)
    assert [i.session.id for i in await service.queries.queue(sales, QueueFilter(tag="vip"))] == [session_id]


async def test_contact_visibility_tags_hide_the_contact_and_its_sessions(service: InboxService) -> None:
    admin = await service.agents.find("admin@example.com")
    assert admin is not None
    await service.agents.set_groups(admin.id, ["vip"])
    admin = await service.agents.get(admin.id)
    alice = await add_agent(service, "alice")
    session_id = await open_session(service)
    contact_id = (await service.queries.detail(admin, session_id))["contact"]["id"]
    await service.actions.set_contact_tags(admin, contact_id, ["vip"])
    assert await service.queries.queue(alice, QueueFilter()) == []
    assert await service.queries.contacts(alice) == []
    with pytest.raises(NotFound):
        await service.queries.contact_profile(alice, contact_id)
    assert (await service.queries.contact_profile(admin, contact_id))["contact"]["visibility_tags"] == ["vip"]


async def test_queue_marks_unclaimed_and_filters(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    waiting = await open_session(service, "k1")
    mine = await open_session(service, "k2", email="joe@example.com")
    await service.actions.claim(alice, mine)
    items = {i.session.id: i for i in await service.queries.queue(alice, QueueFilter())}
    assert items[waiting].unclaimed and not items[mine].unclaimed
    assert items[mine].assigned_agent_name == "Alice"
    assert [i.session.id for i in await service.queries.queue(alice, QueueFilter(assigned="me"))] == [mine]
    assert [i.session.id for i in await service.queries.queue(alice, QueueFilter(assigned="unassigned"))] == [waiting]
    assert [i.session.id for i in await service.queries.queue(alice, QueueFilter(search="joe@"))] == [mine]


async def test_transcript_and_live_messages_are_redacted_before_storage(service: InboxService) -> None:
    alice = await add_agent(service, "alice")
    session_id = await open_session(service, transcript=(("user", "text", {"text": "my card is 4111 1111 1111 1111"}),))
    await service.intake.add_user_message(session_id, "msg_1", "text", {"text": "mail me at jane@example.com"})
    await service.intake.add_user_message(
        session_id, "msg_2", "bloc", {"items": [{"type": "text", "payload": {"text": "4111-1111-1111-1111"}}]}
    )
    stored = await service.store.fetch_all("SELECT payload, text FROM messages")
    dump = " ".join(row["payload"] + row["text"] for row in stored)
    assert "4111" not in dump and "jane@example.com" not in dump
    assert "[card number redacted]" in dump and "[email redacted]" in dump
    texts = [m["text"] for m in (await service.queries.detail(alice, session_id))["messages"]]
    assert texts == ["my card is [card number redacted]", "mail me at [email redacted]", "[card number redacted]"]


async def test_user_messages_are_stored_once_per_botpress_message(service: InboxService) -> None:
    session_id = await open_session(service)
    first = await service.intake.add_user_message(session_id, "msg_1", "text", {"text": "hi"})
    assert await service.intake.add_user_message(session_id, "msg_1", "text", {"text": "hi"}) == first
    assert len(await service.store.fetch_all("SELECT id FROM messages")) == 1
