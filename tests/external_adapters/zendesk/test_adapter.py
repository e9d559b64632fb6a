"""register/unregister, createUser, startHitl, link and stopHitl against the fake Zendesk (every request
validated by the ``zendesk_api`` contract router)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from external_adapters import EndUser, ExternalRequestError, ExternalUserRequest, OpenSessionRequest, Transcript
from external_adapters.zendesk.subscription import STATE_NAME, idempotency_tag, marker_tag
from tests.contracts.zendesk import ZendeskMockRouter

from .conftest import INSTALLATION, WEBHOOK_URL
from .fake_zendesk import FakeZendesk

MARKER = marker_tag(INSTALLATION.webhook_id)


def _requests(router: ZendeskMockRouter, method: str, path_start: str) -> list[httpx.Request]:
    return [c.request for c in router.calls if c.request.method == method and c.request.url.path.startswith(path_start)]


async def test_subscribe_creates_webhook_secret_bot_user_and_marked_triggers(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    (webhook,) = fake_zendesk.webhooks.values()
    assert webhook["endpoint"] == WEBHOOK_URL and webhook["subscriptions"] == ["conditional_ticket_events"]
    state = built.state.items[STATE_NAME]
    assert state["webhook_id"] == webhook["id"] and state["signing_secret"] == webhook["secret"]
    assert sorted(state["trigger_ids"]) == sorted(fake_zendesk.triggers)
    bot = fake_zendesk.users[state["bot_zendesk_user_id"]]
    assert bot["external_id"] == INSTALLATION.bot_user_id and bot["role"] == "end-user"
    events = set()
    for trigger in fake_zendesk.triggers.values():
        assert {"field": "current_tags", "operator": "includes", "value": MARKER} in trigger["conditions"]["all"]
        webhook_id, template = trigger["actions"][0]["value"]
        assert webhook_id == webhook["id"]
        events.add(json.loads(template)["event"])
    assert events == {"comment", "assigned", "solved"}
    assert not _requests(zendesk_api, "POST", "/api/v2/webhooks.json"), "the Webhooks API takes no .json suffix"


async def test_comment_trigger_excludes_api_and_end_user_comments(build: Any, fake_zendesk: FakeZendesk) -> None:
    await build().adapter.subscribe(WEBHOOK_URL)
    comment = next(t for t in fake_zendesk.triggers.values() if t["title"].endswith("comment"))
    assert {"field": "current_via_id", "operator": "is_not", "value": "5"} in comment["conditions"]["all"]
    assert {"field": "role", "operator": "is_not", "value": "end_user"} in comment["conditions"]["all"]


async def test_without_ignore_non_hitl_tickets_triggers_fire_for_every_ticket(
    build: Any, fake_zendesk: FakeZendesk
) -> None:
    await build(ignoreNonHitlTickets=False).adapter.subscribe(WEBHOOK_URL)
    for trigger in fake_zendesk.triggers.values():
        assert all(c["field"] != "current_tags" for c in trigger["conditions"]["all"])


async def test_resubscribe_replaces_what_state_says_was_created(build: Any, fake_zendesk: FakeZendesk) -> None:
    built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    first_webhooks, first_triggers = set(fake_zendesk.webhooks), set(fake_zendesk.triggers)
    await built.adapter.subscribe(WEBHOOK_URL)
    assert len(fake_zendesk.webhooks) == 1 and len(fake_zendesk.triggers) == 3
    assert not set(fake_zendesk.webhooks) & first_webhooks and not set(fake_zendesk.triggers) & first_triggers


async def test_unsubscribe_removes_everything_and_tolerates_what_is_gone(build: Any, fake_zendesk: FakeZendesk) -> None:
    built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    fake_zendesk.webhooks.clear()  # deleted by hand in the Admin Center
    fake_zendesk.triggers.pop(next(iter(fake_zendesk.triggers)))
    await built.adapter.unsubscribe(WEBHOOK_URL)
    assert fake_zendesk.triggers == {} and STATE_NAME not in built.state.items
    await built.adapter.unsubscribe(WEBHOOK_URL)  # nothing stored: a no-op


async def test_failed_subscribe_rolls_back_and_stores_nothing(build: Any, fake_zendesk: FakeZendesk) -> None:
    built = build()
    original = fake_zendesk._create_trigger
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            return httpx.Response(422, json={"error": "RecordInvalid", "description": "Invalid conditions"})
        return original(request)

    fake_zendesk._create_trigger = flaky  # type: ignore[method-assign]
    with pytest.raises(ExternalRequestError, match="Invalid conditions"):
        await built.adapter.subscribe(WEBHOOK_URL)
    assert fake_zendesk.webhooks == {} and fake_zendesk.triggers == {}
    assert STATE_NAME not in built.state.items


async def test_create_user_upserts_an_end_user_and_drops_long_photos(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = build().adapter
    request = ExternalUserRequest(
        bp_user_id="user_01", name="Jane", email="jane@example.com", picture_url="https://cdn.example.com/" + "p" * 300
    )
    user_id = await adapter.create_user(request)
    assert user_id == await adapter.create_user(request.model_copy(update={"picture_url": "https://x.io/j.png"}))
    first = json.loads(_requests(zendesk_api, "POST", "/api/v2/users/create_or_update")[0].content)["user"]
    assert first == {
        "name": "Jane",
        "email": "jane@example.com",
        "external_id": "user_01",
        "role": "end-user",
        "skip_verify_email": True,
    }
    assert "over 255" in caplog.text
    second = json.loads(_requests(zendesk_api, "POST", "/api/v2/users/create_or_update")[1].content)["user"]
    assert second["remote_photo_url"] == "https://x.io/j.png"


def _open_request(external_user_id: str, key: str = "start-1", **options: Any) -> OpenSessionRequest[Any]:
    from external_adapters.zendesk import ZendeskAdapter

    return OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_01", external_user_id=external_user_id, name="Jane"),
        title="Need help",
        description="Customer <wants> a human",
        options=ZendeskAdapter.parse_session_options(options),
        transcript=Transcript(text="t", markdown="m", html="<p><b>Jane:</b> hi</p>"),
        idempotency_key=key,
    )


async def test_open_session_sets_every_card_field(build: Any, fake_zendesk: FakeZendesk) -> None:
    adapter = build(tags=["from-config"]).adapter
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await adapter.open_session(
        _open_request(
            jane,
            priority="urgent",
            type="incident",
            tags=["vip"],
            groupId="42",
            assigneeEmail="bob@acme.test",
            ticketFormId=360,
            customFields=[{"id": 7, "value": "gold"}],
            transcriptVisibility="internal",
        )
    )
    ticket = fake_zendesk.tickets[int(ticket_id)]
    data = ticket.data
    assert data["subject"] == "Need help" and data["requester_id"] == int(jane)
    assert (data["priority"], data["type"], data["group_id"], data["ticket_form_id"]) == ("urgent", "incident", 42, 360)
    assert data["assignee_id"] == fake_zendesk.agent and data["custom_fields"] == [{"id": 7, "value": "gold"}]
    assert data["tags"] == ["from-config", "vip", MARKER, idempotency_tag("start-1")]
    (comment,) = ticket.comments
    assert comment["public"] is False and comment["author_id"] == int(jane)
    assert comment["html_body"] == "<p>Customer &lt;wants&gt; a human</p><hr><p><b>Jane:</b> hi</p>"


async def test_open_session_with_requester_from_the_card(build: Any, fake_zendesk: FakeZendesk) -> None:
    adapter = build().adapter
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await adapter.open_session(_open_request(jane, requesterEmail="boss@corp.example"))
    requester = fake_zendesk.users[fake_zendesk.tickets[int(ticket_id)].data["requester_id"]]
    assert requester["email"] == "boss@corp.example" and requester["name"] == "Jane"


async def test_open_session_is_retry_safe_before_and_after_link(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    adapter = build().adapter
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    first = await adapter.open_session(_open_request(jane))
    assert await adapter.open_session(_open_request(jane)) == first  # found by external_id
    await adapter.link_session(first, "conv_01")
    assert fake_zendesk.tickets[int(first)].data["external_id"] == "conv_01"
    assert await adapter.open_session(_open_request(jane)) == first  # found by tag search
    assert len(_requests(zendesk_api, "POST", "/api/v2/tickets")) == 1
    assert await adapter.open_session(_open_request(jane, key="start-2")) != first


async def test_close_session_sets_close_status_and_is_a_no_op_when_closed_or_gone(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    adapter = build(closeStatus="closed").adapter
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await adapter.open_session(_open_request(jane))
    await adapter.close_session(ticket_id)
    assert fake_zendesk.tickets[int(ticket_id)].data["status"] == "closed"
    await adapter.close_session(ticket_id)
    await adapter.close_session("999999")
    assert len(_requests(zendesk_api, "PUT", "/api/v2/tickets/")) == 1


async def test_close_session_defaults_to_solved(build: Any, fake_zendesk: FakeZendesk) -> None:
    adapter = build().adapter
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await adapter.open_session(_open_request(jane))
    await adapter.close_session(ticket_id)
    assert fake_zendesk.tickets[int(ticket_id)].data["status"] == "solved"
