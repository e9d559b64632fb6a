"""Retries follow the SDK rules: what is retried, how long we wait, and when we give up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from external_adapters.http_retry import RetryPolicy
from integration.botpress import (
    BotpressClient,
    BotpressOutcomeUnknownError,
    BotpressUnavailableError,
    Event,
    InternalError,
    InvalidPayloadError,
    RateLimitedError,
)
from tests.contracts.botpress import (
    TEST_TOKEN,
    BotpressMockRouter,
    RecordedSleeps,
    bp_conversation,
    bp_error,
    bp_json,
    bp_message,
    bp_state,
    bp_user,
    make_bp_client,
)
from tests.contracts.lost_answers import ErrorFactory, LostAnswers, lose_answers, read_timeout, reset
from tests.fake_botpress import FakeBotpress

USER_ID = "user_01JTESTUSER00000000000000000"
CONV_ID = "conv_01JTESTCONV00000000000000000"
MSG_ID = "msg_01JTESTMSG0000000000000000000"
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


# --- lost answers: Botpress committed the write, the answer never came back ---------------------------------------

LOSSES = pytest.mark.parametrize("error", [read_timeout, reset], ids=["read-timeout", "reset"])
AGENT_A = "user_01JTESTAGENTA0000000000000000"
AGENT_B = "user_01JTESTAGENTB0000000000000000"


@pytest.fixture
def lost(bp_api: BotpressMockRouter, fake_botpress: FakeBotpress) -> LostAnswers:
    """Answers to lose, on the routes of the fake Botpress."""
    return lose_answers(bp_api)


def _sent(router: BotpressMockRouter, method: str, path: str) -> int:
    return sum(1 for call in router.calls if call.request.method == method and call.request.url.path == path)


def _assigned(fake: FakeBotpress) -> list[str]:
    return [event["payload"]["userId"] for event in fake.events if event["type"] == "hitlAssigned"]


async def assign(client: BotpressClient, agent_id: str) -> Event:
    payload = {"conversationId": CONV_ID, "userId": agent_id}
    return await client.create_event(type="hitlAssigned", payload=payload, conversation_id=CONV_ID)


@LOSSES
async def test_an_event_whose_answer_was_lost_is_found_not_emitted_twice(
    bp_api: BotpressMockRouter,
    bp_client: BotpressClient,
    fake_botpress: FakeBotpress,
    lost: LostAnswers,
    error: ErrorFactory,
) -> None:
    lost.lose("POST", r"/v1/chat/events$", error=error)

    event = await bp_client.create_event(
        type="hitlStopped", payload={"conversationId": CONV_ID}, conversation_id=CONV_ID
    )

    assert [e["id"] for e in fake_botpress.events] == [event.id]
    assert _sent(bp_api, "POST", "/v1/chat/events") == 1 and len(lost.lost) == 1


async def test_an_event_is_found_only_if_it_is_the_newest_of_its_type(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, fake_botpress: FakeBotpress, lost: LostAnswers
) -> None:
    await assign(bp_client, AGENT_A)
    await assign(bp_client, AGENT_B)
    lost.lose("POST", r"/v1/chat/events$")

    await assign(bp_client, AGENT_A)  # back to A: the older event for A is not this one

    assert _assigned(fake_botpress) == [AGENT_A, AGENT_B, AGENT_A]
    assert _sent(bp_api, "POST", "/v1/chat/events") == 3


async def test_an_event_that_provably_did_not_happen_is_emitted_again(
    bp_api: BotpressMockRouter, bp_client: BotpressClient, fake_botpress: FakeBotpress, lost: LostAnswers
) -> None:
    await assign(bp_client, AGENT_A)
    lost.fail("POST", r"/v1/chat/events$", bp_error("Internal"))  # Botpress failed before it stored the event

    await assign(bp_client, AGENT_B)

    assert _assigned(fake_botpress) == [AGENT_A, AGENT_B]
    assert _sent(bp_api, "POST", "/v1/chat/events") == 3


@LOSSES
async def test_a_message_or_user_create_whose_answer_was_lost_is_not_repeated(
    bp_api: BotpressMockRouter,
    bp_client: BotpressClient,
    fake_botpress: FakeBotpress,
    lost: LostAnswers,
    error: ErrorFactory,
) -> None:
    lost.lose("POST", r"/v1/chat/messages$", error=error).lose("POST", r"/v1/chat/users$", error=error)

    with pytest.raises(BotpressOutcomeUnknownError, match="not repeated"):
        await create_message(bp_client)
    with pytest.raises(BotpressOutcomeUnknownError, match="not repeated"):
        await bp_client.create_user(tags={}, name="Jane")

    assert len(fake_botpress.messages) == 1 and len(fake_botpress.users) == 1
    assert _sent(bp_api, "POST", "/v1/chat/messages") == 1 and _sent(bp_api, "POST", "/v1/chat/users") == 1


@LOSSES
async def test_idempotent_writes_whose_answers_were_lost_are_repeated_with_one_effect(
    bp_client: BotpressClient, fake_botpress: FakeBotpress, lost: LostAnswers, error: ErrorFactory
) -> None:
    for method, path in [
        ("POST", r"/users/get-or-create$"),
        ("POST", r"/conversations/get-or-create$"),
        ("POST", r"/messages/get-or-create$"),
        ("POST", r"/states/"),
        ("PUT", r"/users/"),
    ]:
        lost.lose(method, path, error=error)

    user = await bp_client.get_or_create_user(tags={"id": "42"}, discriminate_by_tags=["id"])
    conversation = await bp_client.get_or_create_conversation(channel="hitl", tags={"id": "7"})
    await bp_client.get_or_create_message(
        conversation_id=conversation.id, user_id=user.id, type="text", payload={"text": "hi"}, tags={"id": "m1"}
    )
    await bp_client.set_state("conversation", conversation.id, "hitlSession", {"closed": True})
    await bp_client.update_user(user.id, name="Jane")

    assert len(lost.lost) == 5
    assert (len(fake_botpress.users), len(fake_botpress.conversations), len(fake_botpress.messages)) == (1, 1, 1)
    assert fake_botpress.users[user.id]["name"] == "Jane" and len(fake_botpress.states) == 1


@pytest.mark.parametrize(
    ("method", "path", "answer", "call"),
    [
        ("PUT", f"/v1/chat/conversations/{CONV_ID}", {"conversation": bp_conversation(CONV_ID)}, "update_conversation"),
        ("PUT", f"/v1/chat/messages/{MSG_ID}", {"message": bp_message(MSG_ID)}, "update_message"),
        (
            "POST",
            f"/v1/chat/states/conversation/{CONV_ID}/s/get-or-set",
            {"state": bp_state(), "meta": {"cached": False}},
            "get_or_set_state",
        ),
        ("PATCH", f"/v1/chat/states/conversation/{CONV_ID}/s", {"state": bp_state()}, "patch_state"),
    ],
)
async def test_the_other_idempotent_writes_are_repeated_after_a_lost_answer(
    bp_api: BotpressMockRouter,
    bp_client: BotpressClient,
    method: str,
    path: str,
    answer: dict[str, Any],
    call: str,
) -> None:
    route = bp_api.route(method=method, path=path).mock(return_value=bp_json(answer))
    lose_answers(bp_api).lose(method, "^" + path + "$")
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "update_conversation": lambda: bp_client.update_conversation(CONV_ID, tags={"id": "1"}),
        "update_message": lambda: bp_client.update_message(MSG_ID, tags={"id": "1"}),
        "get_or_set_state": lambda: bp_client.get_or_set_state("conversation", CONV_ID, "s", {"a": 1}),
        "patch_state": lambda: bp_client.patch_state("conversation", CONV_ID, "s", {"a": 1}),
    }

    await calls[call]()

    assert route.call_count == 2
