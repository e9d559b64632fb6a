"""Ids that are not Zendesk ids (a tampered Botpress tag, "1e999", "²") and webhook bodies too deep to read."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bp_modules.hitl import HitlText
from external_adapters import ExternalNotFoundError, InvalidWebhookError, OutboundMessage, SessionOptionsError
from external_adapters.zendesk import ZendeskAdapter
from external_adapters.zendesk.models import zendesk_id
from external_adapters.zendesk.responses import json_object
from external_adapters.zendesk.webhooks import parse_payload
from tests.contracts.zendesk import ZendeskMockRouter

NOT_IDS = ["abc", "1e999", "²", "٣", "-1", "0", "01", " 1", "1.0", "9" * 19, "9" * 5000, ""]


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_value_that_is_not_a_zendesk_id_names_nothing(value: str) -> None:
    with pytest.raises(ExternalNotFoundError, match="not a Zendesk id"):
        zendesk_id(value, "tickets")


@pytest.mark.parametrize("value", ["1", "42", str(2**63 - 1)])
def test_a_zendesk_id_is_read(value: str) -> None:
    assert zendesk_id(value, "tickets") == int(value)


def test_a_webhook_body_too_deep_to_read_is_an_invalid_webhook() -> None:
    with pytest.raises(InvalidWebhookError):
        parse_payload("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("ticket_tag", ["abc", "1e999"])
async def test_a_message_for_a_tampered_ticket_tag_sends_nothing(
    build: Any, zendesk_api: ZendeskMockRouter, ticket_tag: str
) -> None:
    message = OutboundMessage(
        external_session_id=ticket_tag, author_external_id="123", message=HitlText(text="hi"), bp_message_id="m1"
    )
    with pytest.raises(ExternalNotFoundError):
        await build().adapter.send_message(message)
    assert not zendesk_api.calls


async def test_closing_a_tampered_ticket_tag_is_a_no_op(build: Any, zendesk_api: ZendeskMockRouter) -> None:
    await build().adapter.close_session("1e999")
    assert not zendesk_api.calls


async def test_a_tampered_author_id_sends_nothing(build: Any, zendesk_api: ZendeskMockRouter) -> None:
    message = OutboundMessage(
        external_session_id="7", author_external_id="abc", message=HitlText(text="hi"), bp_message_id="m1"
    )
    with pytest.raises(ExternalNotFoundError):
        await build().adapter.send_message(message)
    assert not zendesk_api.calls


@pytest.mark.parametrize("field", ["groupId", "ticketFormId"])
@pytest.mark.parametrize("value", [2**63, 10**400])
def test_an_id_too_big_for_zendesk_in_the_card_is_refused_naming_it(field: str, value: int) -> None:
    with pytest.raises(SessionOptionsError, match=field):
        ZendeskAdapter.parse_session_options({field: value})


def test_a_custom_field_id_too_big_for_zendesk_is_refused() -> None:
    with pytest.raises(SessionOptionsError, match="customFields"):
        ZendeskAdapter.parse_session_options({"customFields": [{"id": 2**64, "value": "x"}]})


def test_a_lone_surrogate_in_a_zendesk_answer_becomes_a_replacement_character() -> None:
    answer = httpx.Response(200, content=json.dumps({"comment": {"body": "hi \ud800"}}).encode())
    assert json_object(answer, "GET", "/api/v2/x") == {"comment": {"body": "hi \ufffd"}}
