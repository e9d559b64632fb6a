"""The Zendesk contract checker itself: it accepts what the adapter sends and rejects malformed traffic."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contracts.zendesk import ZD_TEST_URL, validate_zendesk_request

AUTH = {"Authorization": "Bearer token"}
WEBHOOK = {
    "name": "n",
    "endpoint": "https://x.io/h",
    "http_method": "POST",
    "request_format": "json",
    "status": "active",
    "subscriptions": ["conditional_ticket_events"],
}


def _request(method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, ZD_TEST_URL + path, headers={**AUTH, **(headers or {})}, **kwargs)


@pytest.mark.parametrize(
    "request_",
    [
        _request(
            "POST",
            "/api/v2/tickets",
            json={"ticket": {"comment": {"body": "x"}, "custom_fields": [{"id": 1, "value": "v"}]}},
        ),
        _request("PUT", "/api/v2/tickets/12.json", json={"ticket": {"status": "solved"}}),
        _request(
            "POST", "/api/v2/uploads", params={"filename": "a.png"}, content=b"x", headers={"content-type": "image/png"}
        ),
        _request("POST", "/api/v2/webhooks", json={"webhook": WEBHOOK}),
        _request("DELETE", "/api/v2/webhooks/01ABC"),
    ],
)
def test_accepts_valid_requests(request_: httpx.Request) -> None:
    validate_zendesk_request(request_)


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (
            _request("POST", "/api/v2/tickets", json={"ticket": {"priority": "critical", "comment": {"body": "x"}}}),
            "priority",
        ),
        (_request("POST", "/api/v2/tickets", json={"ticket": {"subject": "no comment"}}), "comment"),
        (_request("PUT", "/api/v2/tickets/abc", json={"ticket": {}}), "ticket_id"),
        (_request("POST", "/api/v2/users/create_or_update", json={"name": "x"}), "user"),
        (_request("POST", "/api/v2/uploads", content=b"x", headers={"content-type": "image/png"}), "filename"),
        (_request("POST", "/api/v2/uploads", params={"filename": "a"}, json={"a": 1}), "MIME"),
        (_request("POST", "/api/v2/webhooks.json", json={"webhook": WEBHOOK}), ".json"),
        (_request("POST", "/api/v2/webhooks", json={"webhook": {**WEBHOOK, "status": "on"}}), "status"),
        (_request("PATCH", "/api/v2/webhooks/01ABC/invocations"), "not a Webhooks API operation"),
        (httpx.Request("GET", ZD_TEST_URL + "/api/v2/tickets/1"), "Authorization"),
        (_request("GET", "/api/v2/nope"), "PathNotFound"),
    ],
)
def test_rejects_malformed_requests(request_: httpx.Request, fragment: str) -> None:
    with pytest.raises(AssertionError, match="Zendesk contract violated") as caught:
        validate_zendesk_request(request_)
    assert fragment in str(caught.value)
