"""The Slack Web API client: Slack's ``ok: false`` errors as the error tree, 429 and Retry-After, writes that are
not repeated blindly, the bearer token only where it belongs."""

from __future__ import annotations

import httpx
import pytest

from external_adapters.errors import (
    ExternalAuthError,
    ExternalNotFoundError,
    ExternalRequestError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from external_adapters.http_retry import RetryPolicy
from external_adapters.slack.client import SlackClient
from tests.adapter_kit import RecordedSleeps
from tests.contracts.lost_answers import lose_answers
from tests.contracts.slack import SLACK_TEST_URL, SlackMockRouter

from .fake_slack import CHANNEL_ID, TOKEN, FakeSlack

POST = {"channel": CHANNEL_ID, "text": "hello"}


def client(http: httpx.AsyncClient, sleeps: RecordedSleeps, *, attempts: int = 4) -> SlackClient:
    return SlackClient(http, SLACK_TEST_URL, TOKEN, policy=RetryPolicy(attempts=attempts), sleep=sleeps)


def refuse(router: SlackMockRouter, method: str, code: str, status: int = 200) -> None:
    router.route(url__startswith=f"{SLACK_TEST_URL}/{method}").mock(
        return_value=httpx.Response(status, json={"ok": False, "error": code})
    )


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("invalid_auth", ExternalAuthError),
        ("not_authed", ExternalAuthError),
        ("account_inactive", ExternalAuthError),
        ("channel_not_found", ExternalNotFoundError),
        ("thread_not_found", ExternalNotFoundError),
        ("message_not_found", ExternalNotFoundError),
        ("msg_too_long", ExternalRequestError),
        ("internal_error", OutcomeUnknownError),
    ],
)
async def test_ok_false_answers_map_to_the_error_tree(
    slack_api: SlackMockRouter, http: httpx.AsyncClient, code: str, error: type[Exception]
) -> None:
    refuse(slack_api, "chat.postMessage", code)
    with pytest.raises(error) as caught:
        await client(http, RecordedSleeps()).post_message(POST)
    assert type(caught.value) is error
    assert code in str(caught.value) and TOKEN not in str(caught.value)


async def test_a_server_error_on_a_read_is_unavailable_not_unknown(
    slack_api: SlackMockRouter, http: httpx.AsyncClient
) -> None:
    refuse(slack_api, "conversations.info", "internal_error")
    with pytest.raises(UnavailableError) as caught:
        await client(http, RecordedSleeps()).conversations_info(CHANNEL_ID)
    assert not isinstance(caught.value, OutcomeUnknownError)


async def test_429_waits_what_retry_after_says_then_posts_once(fake_slack: FakeSlack, http: httpx.AsyncClient) -> None:
    fake_slack.limit("chat.postMessage", retry_after=7, times=2)
    sleeps = RecordedSleeps()
    posted = await client(http, sleeps).post_message(POST)
    assert sleeps == [7.0, 7.0]
    assert [m["ts"] for m in fake_slack.posts()] == [posted.ts]


async def test_429_beyond_the_attempts_is_rate_limited_with_its_wait(
    fake_slack: FakeSlack, http: httpx.AsyncClient
) -> None:
    fake_slack.limit("chat.postMessage", retry_after=30, times=5)
    with pytest.raises(RateLimitedError) as caught:
        await client(http, RecordedSleeps(), attempts=3).post_message(POST)
    assert caught.value.retry_after == 30
    assert fake_slack.posts() == []


async def test_a_lost_answer_to_a_post_is_unknown_and_not_repeated(
    fake_slack: FakeSlack, slack_api: SlackMockRouter, http: httpx.AsyncClient
) -> None:
    lose_answers(slack_api).lose("POST", r"/api/chat\.postMessage$")
    with pytest.raises(OutcomeUnknownError):
        await client(http, RecordedSleeps()).post_message(POST)
    assert len(fake_slack.posts()) == 1  # Slack has it; the caller looks it up by its metadata


async def test_a_lost_answer_to_a_read_is_repeated(
    fake_slack: FakeSlack, slack_api: SlackMockRouter, http: httpx.AsyncClient
) -> None:
    lose_answers(slack_api).lose("GET", r"/api/conversations\.info$")
    channel = await client(http, RecordedSleeps()).conversations_info(CHANNEL_ID)
    assert channel.id == CHANNEL_ID


async def test_a_5xx_to_a_post_is_unknown(slack_api: SlackMockRouter, http: httpx.AsyncClient) -> None:
    slack_api.route(url__eq=f"{SLACK_TEST_URL}/chat.postMessage").mock(return_value=httpx.Response(500))
    with pytest.raises(OutcomeUnknownError):
        await client(http, RecordedSleeps()).post_message(POST)
    assert slack_api.calls.call_count == 1


async def test_the_thread_is_read_page_after_page(fake_slack: FakeSlack, http: httpx.AsyncClient) -> None:
    fake_slack.page_size = 2
    slack = client(http, RecordedSleeps())
    parent = await slack.post_message(POST)
    for n in range(4):
        await slack.post_message({**POST, "text": f"reply {n}", "thread_ts": parent.ts})
    messages = await slack.thread(CHANNEL_ID, parent.ts)
    assert [m.text for m in messages] == ["hello", "reply 0", "reply 1", "reply 2", "reply 3"]


async def test_the_token_goes_only_to_slack_file_hosts(slack_api: SlackMockRouter, http: httpx.AsyncClient) -> None:
    slack = client(http, RecordedSleeps())
    with pytest.raises(ExternalRequestError):
        await slack.download("https://evil.example.com/steal", max_bytes=100)
    with pytest.raises(ExternalRequestError):
        await slack.upload_bytes("https://evil.example.com/upload", b"x", "text/plain")
    assert slack_api.calls.call_count == 0


async def test_a_download_carries_the_token_and_stops_at_the_cap(
    slack_api: SlackMockRouter, http: httpx.AsyncClient
) -> None:
    url = "https://files.slack.com/files-pri/T0ACME-F1/a.png"
    route = slack_api.get(url).mock(
        return_value=httpx.Response(200, content=b"0123456789", headers={"content-type": "image/png"})
    )
    slack = client(http, RecordedSleeps())
    assert await slack.download(url, max_bytes=10) == (b"0123456789", "image/png")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(ExternalRequestError, match="over 9 bytes"):
        await slack.download(url, max_bytes=9)
