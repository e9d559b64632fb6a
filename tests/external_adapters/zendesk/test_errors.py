"""Zendesk failures become the adapter error tree, with the core's retry rules and no secrets in messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from external_adapters import (
    ExternalAuthError,
    ExternalNotFoundError,
    ExternalRequestError,
    ExternalUserRequest,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from tests.contracts.zendesk import ZendeskMockRouter

from .conftest import CONFIG, Built
from .fake_zendesk import FakeZendesk

USER = ExternalUserRequest(bp_user_id="user_01", name="Jane", email="jane@example.com")


def _calls(router: ZendeskMockRouter) -> list[int]:
    return [call.response.status_code for call in router.calls]


async def test_a_4xx_is_a_one_line_request_error_without_secrets(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    fake_zendesk.fail_next.append(
        httpx.Response(
            422,
            json={
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"email": [{"description": "Email: jane@example is not properly formatted\nat all"}]},
            },
        )
    )
    with pytest.raises(ExternalRequestError) as caught:
        await build().adapter.create_user(USER)
    message = str(caught.value)
    assert message == (
        "zendesk POST /api/v2/users/create_or_update -> 422: RecordInvalid Record validation errors "
        "(email: Email: jane@example is not properly formatted at all)"
    )
    assert "\n" not in message and CONFIG["apiToken"] not in message
    assert _calls(zendesk_api) == [422]


@pytest.mark.parametrize(
    ("status", "error"), [(401, ExternalAuthError), (403, ExternalAuthError), (404, ExternalNotFoundError)]
)
async def test_auth_and_not_found(build: Any, fake_zendesk: FakeZendesk, status: int, error: type[Exception]) -> None:
    fake_zendesk.fail_next.append(httpx.Response(status, json={"error": "Couldn't authenticate you"}))
    with pytest.raises(error):
        await build().adapter.create_user(USER)


async def test_429_is_retried_after_retry_after(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    fake_zendesk.fail_next += [httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(502)]
    assert await built.adapter.create_user(USER)
    assert _calls(zendesk_api) == [429, 502, 201]
    assert built.sleeps == [3.0, 2.0]


async def test_persistent_429_is_rate_limited(build: Any, fake_zendesk: FakeZendesk) -> None:
    built: Built = build()
    fake_zendesk.fail_next += [httpx.Response(429, headers={"Retry-After": "5"}) for _ in range(4)]
    with pytest.raises(RateLimitedError) as caught:
        await built.adapter.create_user(USER)
    assert caught.value.retry_after == 5.0 and len(built.sleeps) == 3


async def test_a_create_500_is_not_retried_but_an_upsert_500_and_a_get_503_are(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    built: Built = build()
    fake_zendesk.fail_next.append(httpx.Response(500))
    with pytest.raises(OutcomeUnknownError, match="not repeated"):
        await built.adapter.client.upload("cat.png", b"png", "image/png")
    assert _calls(zendesk_api) == [500]
    fake_zendesk.fail_next.append(httpx.Response(500))
    await built.adapter.create_user(USER)  # users/create_or_update is an upsert: repeating it is harmless
    assert _calls(zendesk_api) == [500, 500, 201]
    fake_zendesk.fail_next += [httpx.Response(503), httpx.Response(503)]
    await built.adapter.close_session("4242")  # GET 503, GET 503, GET 404: a missing ticket is a no-op
    assert _calls(zendesk_api) == [500, 500, 201, 503, 503, 404]


async def test_network_errors_become_unavailable(build: Any, fake_zendesk: FakeZendesk) -> None:
    built: Built = build()
    fake_zendesk.fail_next += [httpx.ConnectError("refused") for _ in range(4)]
    with pytest.raises(UnavailableError, match="ConnectError"):
        await built.adapter.create_user(USER)


async def test_a_token_auth_header_and_a_bearer_header(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter
) -> None:
    await build().adapter.create_user(USER)
    assert zendesk_api.calls.last.request.headers["authorization"] == (
        "Basic Ym90LWFkbWluQGFjbWUudGVzdC90b2tlbjp6ZC1zZWNyZXQtdG9rZW4tMTIz"
    )  # base64("bot-admin@acme.test/token:zd-secret-token-123")
    await build(email=None, apiToken=None, accessToken="oauth-abc").adapter.create_user(USER)
    assert zendesk_api.calls.last.request.headers["authorization"] == "Bearer oauth-abc"
