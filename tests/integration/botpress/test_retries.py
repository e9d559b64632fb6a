"""Retries follow the SDK rules: what is retried, how long we wait, and when we give up."""

from __future__ import annotations

import httpx
import pytest

from external_adapters.http_retry import RetryPolicy
from integration.botpress import (
    BotpressClient,
    BotpressUnavailableError,
    InternalError,
    InvalidPayloadError,
    RateLimitedError,
)
from tests.contracts.botpress import (
    TEST_TOKEN,
    BotpressMockRouter,
    RecordedSleeps,
    bp_error,
    bp_json,
    bp_message,
    bp_user,
    make_bp_client,
)

USER_ID = "user_01JTESTUSER00000000000000000"
CONV_ID = "conv_01JTESTCONV00000000000000000"
ATTEMPTS = RetryPolicy().attempts


async def create_message(client: BotpressClient) -> None:
    await client.create_message(conversation_id=CONV_ID, user_id=USER_ID, type="text", payload={"text": "hi"}, tags={})


async def test_network_error_is_retried(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps
) -> None:
    route = bp_api.post("/v1/chat/messages").mock(
        side_effect=[httpx.ConnectError("refused"), bp_json({"message": bp_message()}, 201)]
    )

    await create_message(bp_client)

    assert route.call_count == 2
    assert bp_sleeps == [1.0]


async def test_network_failure_after_every_attempt_is_unavailable(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps
) -> None:
    route = bp_api.get(f"/v1/chat/users/{USER_ID}").mock(side_effect=httpx.ConnectTimeout(f"timed out {TEST_TOKEN}"))

    with pytest.raises(BotpressUnavailableError) as caught:
        await bp_client.get_user(USER_ID)

    assert route.call_count == ATTEMPTS
    assert len(bp_sleeps) == ATTEMPTS - 1
    assert "ConnectTimeout" in str(caught.value)
    assert TEST_TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_429_waits_as_retry_after_asks(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps
) -> None:
    route = bp_api.post("/v1/chat/users/get-or-create").mock(
        side_effect=[
            bp_error("RateLimited", headers={"Retry-After": "7"}),
            bp_json({"user": bp_user()}),
        ]
    )

    await bp_client.get_or_create_user(tags={"id": "1"})

    assert route.call_count == 2
    assert bp_sleeps == [7.0]


@pytest.mark.parametrize("header", ["RateLimit-Reset", "X-RateLimit-Reset"])
async def test_429_honours_rate_limit_reset(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps, header: str
) -> None:
    bp_api.get("/v1/chat/users").mock(
        side_effect=[
            bp_error("RateLimited", headers={header: "3"}),
            bp_json({"users": [], "meta": {}}),
        ]
    )

    await bp_client.list_users()

    assert bp_sleeps == [3.0]


async def test_a_long_retry_after_is_capped(bp_api: BotpressMockRouter, bp_sleeps: RecordedSleeps) -> None:
    bp_api.get(f"/v1/chat/users/{USER_ID}").mock(
        side_effect=[bp_error("RateLimited", headers={"Retry-After": "999"}), bp_json({"user": bp_user()})]
    )
    async with httpx.AsyncClient() as http:
        client = make_bp_client(http, bp_sleeps, RetryPolicy(attempts=2, max_wait=5.0))
        await client.get_user(USER_ID)

    assert bp_sleeps == [5.0]


async def test_persistent_429_ends_in_rate_limited(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps
) -> None:
    route = bp_api.post("/v1/chat/events").mock(return_value=bp_error("RateLimited"))

    with pytest.raises(RateLimitedError) as caught:
        await bp_client.create_event(type="hitlStopped", payload={"conversationId": CONV_ID})

    assert route.call_count == ATTEMPTS
    assert caught.value.is_transient


async def test_502_on_post_is_retried(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/messages").mock(
        side_effect=[httpx.Response(502, text="bad gateway"), bp_json({"message": bp_message()}, 201)]
    )

    await create_message(bp_client)

    assert route.call_count == 2


async def test_500_on_post_is_not_retried(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps
) -> None:
    route = bp_api.post("/v1/chat/messages").mock(return_value=bp_error("Internal"))

    with pytest.raises(InternalError):
        await create_message(bp_client)

    assert route.call_count == 1
    assert bp_sleeps == []


async def test_500_on_get_is_retried(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get(f"/v1/chat/users/{USER_ID}").mock(
        side_effect=[bp_error("Internal"), bp_error("Internal"), bp_json({"user": bp_user(USER_ID)})]
    )

    user = await bp_client.get_user(USER_ID)

    assert user is not None
    assert route.call_count == 3


async def test_500_on_put_is_retried_then_raised(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/users/{USER_ID}").mock(return_value=bp_error("Internal"))

    with pytest.raises(InternalError):
        await bp_client.update_user(USER_ID, name="n")

    assert route.call_count == ATTEMPTS


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_400_is_never_retried(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, bp_sleeps: RecordedSleeps, method: str
) -> None:
    route = bp_api.route(method=method, path="/v1/chat/users").mock(return_value=bp_error("InvalidPayload"))

    with pytest.raises(InvalidPayloadError):
        if method == "GET":
            await bp_client.list_users()
        else:
            await bp_client.create_user(tags={})

    assert route.call_count == 1
    assert bp_sleeps == []


async def test_attempts_follow_the_policy(bp_api: BotpressMockRouter, bp_sleeps: RecordedSleeps) -> None:
    route = bp_api.get(f"/v1/chat/users/{USER_ID}").mock(side_effect=httpx.ReadError("reset"))
    async with httpx.AsyncClient() as http:
        client = make_bp_client(http, bp_sleeps, RetryPolicy(attempts=2))
        with pytest.raises(BotpressUnavailableError):
            await client.get_user(USER_ID)

    assert route.call_count == 2
