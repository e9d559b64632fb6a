"""Webhooks into events: the payload fixture of each trigger template, agent comments, assignment, solve,
and everything that must never echo back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bp_modules.hitl import HitlFile, HitlImage, HitlText
from external_adapters import (
    AgentAssigned,
    AgentMessage,
    EndUser,
    ExternalUserRequest,
    InvalidWebhookError,
    OpenSessionRequest,
    SessionClosed,
    Transcript,
    WebhookRequest,
)
from external_adapters.zendesk import ZendeskAdapter
from external_adapters.zendesk.subscription import marker_tag
from external_adapters.zendesk.triggers import TEMPLATES, payload_template
from external_adapters.zendesk.webhooks import comment_text, parse_payload

from .conftest import INSTALLATION, WEBHOOK_URL, Built
from .fake_zendesk import FakeZendesk

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "zendesk"


def _fixture(name: str) -> str:
    return (PAYLOADS / f"{name}.json").read_text().strip()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.event)
def test_each_trigger_template_has_a_payload_fixture_rendered_from_it(template: Any) -> None:
    rendered = payload_template(template.event, marker_tag(INSTALLATION.webhook_id))
    rendered = rendered.replace("{{ticket.id}}", "1234").replace("{{current_user.id}}", "1001")
    rendered = rendered.replace("{{ticket.public_comments[0].id}}", "5678")
    assert _fixture(template.event) == rendered
    payload = parse_payload(rendered)
    assert payload is not None and (payload.event, payload.ticket_id, payload.current_user_id) == (
        template.event,
        1234,
        1001,
    )


@pytest.mark.parametrize(("rendered", "comment_id"), [("5678", 5678), ("", None), ("{{oops}}", None), ("²", None)])
def test_the_comment_id_is_a_hint_that_never_drops_a_delivery(rendered: str, comment_id: int | None) -> None:
    body = _fixture("comment").replace('"5678"', json.dumps(rendered))
    payload = parse_payload(body)
    assert payload is not None and payload.ticket_id == 1234 and payload.comment_id == comment_id


@pytest.mark.parametrize("name", ["zendesk_test_webhook", "foreign_marker"])
async def test_payloads_that_are_not_ours_give_no_events(name: str, build: Any, fake_zendesk: FakeZendesk) -> None:
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    result = await built.adapter.parse_webhook(WebhookRequest(method="POST", path="/", body=_fixture(name)))
    assert result.events == []


async def test_a_body_that_is_not_json_is_an_invalid_webhook(build: Any, fake_zendesk: FakeZendesk) -> None:
    with pytest.raises(InvalidWebhookError):
        await build().adapter.parse_webhook(WebhookRequest(method="POST", path="/", body="<xml/>"))


async def _ticket(built: Built) -> int:
    await built.adapter.subscribe(WEBHOOK_URL)
    jane = await built.adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    request = OpenSessionRequest[Any](
        end_user=EndUser(bp_user_id="user_01", external_user_id=jane),
        options=ZendeskAdapter.parse_session_options({}),
        transcript=Transcript(text="", markdown="", html="<p>history</p>"),
        idempotency_key="k",
    )
    return int(await built.adapter.open_session(request))


async def _events(built: Built, requests: list[WebhookRequest]) -> list[Any]:
    events = []
    for request in requests:
        await built.adapter.verify_webhook(request)
        events += (await built.adapter.parse_webhook(request)).events
    return events


@pytest.fixture
async def ticket(build: Any, fake_zendesk: FakeZendesk) -> tuple[Built, int]:
    built: Built = build()
    return built, await _ticket(built)


async def test_the_comment_payload_fixture_yields_the_agent_comment(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    fake_zendesk.agent_comment(ticket_id, "<p>Hi <strong>Jane</strong></p>")
    body = _fixture("comment").replace("1234", str(ticket_id))
    (event,) = (await built.adapter.parse_webhook(WebhookRequest(method="POST", path="/", body=body))).events
    assert isinstance(event, AgentMessage) and isinstance(event.message, HitlText)
    assert event.message.text == "Hi **Jane**"
    assert event.external_session_id == str(ticket_id) and event.dedupe_key == event.external_message_id
    assert event.agent.name == "Bob Agent" and event.agent.email == "bob@acme.test"
    assert event.agent.picture_url == "https://acme.zendesk.com/bob.png"


async def test_html_becomes_markdown_and_on_behalf_lines_go(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    html = (
        "<p>***! Bob Agent commented on behalf of Jane !***</p><p>See <a href='https://kb.example/x'>the guide</a>"
        "</p><ul><li>one</li><li>two</li></ul>"
    )
    (event,) = await _events(built, fake_zendesk.agent_comment(ticket_id, html))
    assert event.message.text == "See [the guide](https://kb.example/x)\n\n- one\n- two"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Bob Agent replied on behalf of Jane</p><p>Done.</p>", "Done."),
        ("<p>----</p><p>- item</p>", "- item"),
        ("<p>I act on behalf of the team.</p>", "I act on behalf of the team."),
    ],
)
def test_comment_text_cleanup(html: str, expected: str) -> None:
    assert comment_text(html, None) == expected


async def test_comment_attachments_become_image_and_file_messages(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    attachments = [
        {
            "id": 71,
            "file_name": "shot.png",
            "content_type": "image/png",
            "content_url": "https://acme.zendesk.com/a/71",
        },
        {
            "id": 72,
            "file_name": "guide.pdf",
            "content_type": "application/pdf",
            "content_url": "https://acme.zendesk.com/a/72",
        },
    ]
    events = await _events(built, fake_zendesk.agent_comment(ticket_id, "<p>Here</p>", attachments=attachments))
    assert [type(e.message) for e in events] == [HitlText, HitlImage, HitlFile]
    assert events[1].message.image_url == "https://acme.zendesk.com/a/71" and events[1].message.title == "shot.png"
    assert len({e.dedupe_key for e in events}) == 3


async def test_nothing_echoes_back(ticket: tuple[Built, int], fake_zendesk: FakeZendesk) -> None:
    built, ticket_id = ticket
    jane = fake_zendesk.tickets[ticket_id].data["requester_id"]
    assert fake_zendesk.agent_comment(ticket_id, "<p>internal</p>", public=False) == []
    assert fake_zendesk.agent_comment(ticket_id, "<p>by api</p>", via="api") == []
    assert fake_zendesk.agent_comment(ticket_id, "<p>email reply</p>", via="email", author_id=jane) == []
    # Even when a trigger fires (e.g. an edited trigger), parse skips end-user, API and internal comments.
    (delivery,) = fake_zendesk.agent_comment(ticket_id, "<p>real</p>")
    events = await _events(built, [delivery])
    assert [e.message.text for e in events] == ["real"]


async def test_bursts_are_not_lost_and_redeliveries_keep_their_keys(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    first = fake_zendesk.agent_comment(ticket_id, "<p>one</p>")
    second = fake_zendesk.agent_comment(ticket_id, "<p>two</p>")
    late = await _events(built, first)  # delivered after the second comment already exists
    assert [e.message.text for e in late] == ["one", "two"]
    again = await _events(built, second)
    assert [e.dedupe_key for e in again] == [e.dedupe_key for e in late]


async def test_a_late_webhook_on_a_busy_ticket_still_finds_its_comment(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    late = fake_zendesk.agent_comment(ticket_id, "<p>the late one</p>")
    for n in range(130):  # the user's messages relayed meanwhile: many newer comments, none an agent reply
        fake_zendesk.agent_comment(ticket_id, f"<p>user message {n}</p>", via="api")
    events = await _events(built, late)
    assert [e.message.text for e in events] == ["the late one"]


@pytest.mark.parametrize(("newer", "pages"), [(130, 3), (700, 6)], ids=["past it", "the bound"])
async def test_paging_back_for_a_comment_stops_once_past_it_or_at_the_bound(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk, newer: int, pages: int
) -> None:
    built, ticket_id = ticket
    (late,) = fake_zendesk.agent_comment(ticket_id, "<p>deleted later</p>")
    fake_zendesk.tickets[ticket_id].comments.pop()  # its comment no longer exists
    for n in range(newer):
        fake_zendesk.agent_comment(ticket_id, f"<p>user message {n}</p>", via="api")
    fake_zendesk.comment_pages_served = 0
    assert await _events(built, [late]) == []
    # The newest 20, then pages of 100 back until an older comment shows up, or 5 of them at most.
    assert fake_zendesk.comment_pages_served == pages


async def test_assignment_gives_the_agent_and_unassignment_nothing(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    (event,) = await _events(built, fake_zendesk.assign(ticket_id))
    assert isinstance(event, AgentAssigned) and event.agent.external_user_id == str(fake_zendesk.agent)
    assert event.agent.email == "bob@acme.test" and event.dedupe_key
    assert await _events(built, fake_zendesk.unassign(ticket_id)) == []


async def test_solve_forwards_the_last_agent_comment_first(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    built, ticket_id = ticket
    deliveries = fake_zendesk.set_status(ticket_id, "solved", comment_html="<p>Closing, bye!</p>")
    solved = [d for d in deliveries if '"event":"solved"' in (d.body or "")]
    events = await _events(built, solved)
    assert [type(e) for e in events] == [AgentMessage, SessionClosed]
    assert events[0].message.text == "Closing, bye!" and events[1].reason == "solved"


async def test_a_deleted_ticket_gives_no_events(ticket: tuple[Built, int], fake_zendesk: FakeZendesk) -> None:
    built, ticket_id = ticket
    (delivery,) = fake_zendesk.assign(ticket_id)
    del fake_zendesk.tickets[ticket_id]
    assert await _events(built, [delivery]) == []


async def test_triggers_ignore_tickets_without_the_marker(ticket: tuple[Built, int], fake_zendesk: FakeZendesk) -> None:
    _, ticket_id = ticket
    fake_zendesk.tickets[ticket_id].data["tags"] = ["someone_elses_ticket"]
    assert fake_zendesk.agent_comment(ticket_id, "<p>hi</p>") == []
    assert fake_zendesk.assign(ticket_id) == []


async def test_a_solve_of_an_assigned_ticket_announces_its_assignee_before_the_close(
    ticket: tuple[Built, int], fake_zendesk: FakeZendesk
) -> None:
    # The assignment webhook may reach another worker after the solve's; the solved ticket still names the agent.
    built, ticket_id = ticket
    fake_zendesk.assign(ticket_id)  # its delivery is late: not applied here
    deliveries = fake_zendesk.set_status(ticket_id, "solved", comment_html="<p>Done</p>")
    events = await _events(built, [d for d in deliveries if '"event":"solved"' in (d.body or "")])
    assert [type(e) for e in events] == [AgentMessage, AgentAssigned, SessionClosed]
    assigned = events[1]
    assert isinstance(assigned, AgentAssigned) and assigned.agent.external_user_id == str(fake_zendesk.agent)
