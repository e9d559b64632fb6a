"""Configuration and hitlTicket validation: every bad value names its field, secrets never show."""

from __future__ import annotations

from typing import Any

import pytest

from external_adapters import AdapterConfigError, SessionOptionsError
from external_adapters.zendesk import ZendeskAdapter

from .conftest import CONFIG

BASE = {"subdomain": "acme", "accessToken": "oauth-token-xyz"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"accessToken": "t"}, "subdomain"),
        ({**BASE, "subdomain": "Acme Corp"}, "subdomain"),
        ({"subdomain": "acme"}, "apiToken"),
        ({"subdomain": "acme", "apiToken": "t"}, "email"),
        ({"subdomain": "acme", "email": "not-an-email", "apiToken": "t"}, "email"),
        ({**CONFIG, "accessToken": "t"}, "accessToken"),
        ({**BASE, "closeStatus": "deleted"}, "closeStatus"),
        ({**BASE, "baseUrl": "ftp://proxy"}, "baseUrl"),
        ({**BASE, "tags": ["two words"]}, "tags"),
        ({**BASE, "ignoreNonHitlTickets": "maybe"}, "ignoreNonHitlTickets"),
    ],
)
def test_bad_config_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(AdapterConfigError) as caught:
        ZendeskAdapter.parse_config(raw)
    assert caught.value.field == field
    assert f"configuration.{field}" in str(caught.value)


def test_good_configs_and_defaults() -> None:
    token = ZendeskAdapter.parse_config(CONFIG)
    assert token.api_base_url == "https://acme.zendesk.com"
    assert token.close_status == "solved" and token.ignore_non_hitl_tickets is True
    oauth = ZendeskAdapter.parse_config({**BASE, "baseUrl": "http://127.0.0.1:8443/", "email": "", "adapter": "x"})
    assert oauth.api_base_url == "http://127.0.0.1:8443"


def test_secrets_do_not_show_in_repr() -> None:
    config = ZendeskAdapter.parse_config(CONFIG)
    assert "zd-secret-token-123" not in repr(config) and "zd-secret-token-123" not in str(config.model_dump())


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"priority": "critical"}, "priority"),
        ({"type": "bug"}, "type"),
        ({"tags": "vip"}, "tags"),
        ({"groupId": "sales"}, "groupId"),
        ({"assigneeEmail": "bob"}, "assigneeEmail"),
        ({"ticketFormId": -3}, "ticketFormId"),
        ({"customFields": {"id": 1}}, "customFields"),
        ({"customFields": [{"value": "x"}]}, "customFields.0.id"),
        ({"customFields": [{"id": 1, "value": {"nested": True}}]}, "customFields.0.value"),
        ({"requesterEmail": "nope"}, "requesterEmail"),
        ({"chatbotPhotoUrl": "logo.png"}, "chatbotPhotoUrl"),
        ({"transcriptVisibility": "secret"}, "transcriptVisibility"),
    ],
)
def test_bad_session_options_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(SessionOptionsError) as caught:
        ZendeskAdapter.parse_session_options(raw)
    assert caught.value.field.startswith(field)


def test_studio_blank_fields_mean_unset() -> None:
    options = ZendeskAdapter.parse_session_options(
        {"priority": "", "groupId": "", "assigneeEmail": " ", "ticketFormId": "360", "customFields": []}
    )
    assert options.priority is None and options.group_id is None and options.assignee_email is None
    assert options.ticket_form_id == 360
