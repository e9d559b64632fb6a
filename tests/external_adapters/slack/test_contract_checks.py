"""The Slack contract checks themselves: requests that break a method's schema are refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.contracts.slack import SLACK_TEST_URL, known_methods, validate_slack_request

AUTH = {"Authorization": "Bearer xoxb-1-abc"}


def post(method: str, body: dict[str, Any], headers: dict[str, str] = AUTH) -> httpx.Request:
    return httpx.Request("POST", f"{SLACK_TEST_URL}/{method}", json=body, headers=headers)


def section(chars: int) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * chars}}


def test_every_method_the_client_calls_has_a_contract() -> None:
    assert known_methods() == sorted(
        [
            "auth.test",
            "chat.postEphemeral",
            "chat.postMessage",
            "chat.update",
            "conversations.history",
            "conversations.info",
            "conversations.join",
            "conversations.replies",
            "files.completeUploadExternal",
            "files.getUploadURLExternal",
            "users.info",
        ]
    )


def test_a_valid_post_passes() -> None:
    blocks = [section(3000)] * 13  # 39,000 characters in 13 sections
    validate_slack_request(post("chat.postMessage", {"channel": "C0SUPPORT", "text": "hi", "blocks": blocks}))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"channel": "C0SUPPORT", "blocks": [section(1)] * 51}, "at blocks: breaks maxItems 50"),
        ({"channel": "C0SUPPORT", "blocks": [section(3001)]}, "at blocks/0/text/text: breaks maxLength 3000"),
        ({"channel": "C0SUPPORT", "text": "x" * 40_001}, "at text: breaks maxLength 40000"),
        ({"channel": "#support", "text": "hi"}, "does not match"),
        ({"channel": "C0SUPPORT", "text": "hi", "thread_ts": "yesterday"}, "does not match"),
        ({"channel": "C0SUPPORT", "text": "hi", "metadata": {"event_type": "Bad Type", "event_payload": {}}}, "match"),
        ({"channel": "C0SUPPORT", "text": "hi", "as_user": True}, "Additional properties"),
        ({"channel": "C0SUPPORT"}, "'text' is a required property"),
    ],
)
def test_a_post_breaking_slack_limits_is_refused(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        validate_slack_request(post("chat.postMessage", body))


def test_the_token_the_method_and_the_encoding_are_checked() -> None:
    with pytest.raises(AssertionError, match="Bearer"):
        validate_slack_request(post("auth.test", {}, headers={}))
    with pytest.raises(AssertionError, match="called with GET"):
        validate_slack_request(post("conversations.history", {"channel": "C0SUPPORT"}))
    form = httpx.Request("POST", f"{SLACK_TEST_URL}/chat.update", data={"channel": "C0SUPPORT"}, headers=AUTH)
    with pytest.raises(AssertionError, match="application/json"):
        validate_slack_request(form)
    with pytest.raises(AssertionError, match="not a Web API method"):
        validate_slack_request(post("chat.delete", {}))


def test_json_valued_form_fields_are_checked() -> None:
    def complete(files: str) -> httpx.Request:
        data = {"files": files, "channel_id": "C0SUPPORT", "thread_ts": "1.2"}
        return httpx.Request("POST", f"{SLACK_TEST_URL}/files.completeUploadExternal", data=data, headers=AUTH)

    validate_slack_request(complete(json.dumps([{"id": "F123", "title": "A cat"}])))
    with pytest.raises(AssertionError, match="files"):
        validate_slack_request(complete(json.dumps([{"title": "no id"}])))
    with pytest.raises(AssertionError, match="JSON string"):
        validate_slack_request(complete("F123"))


def test_the_upload_is_checked_by_hand() -> None:
    url = "https://files.slack.com/upload/v1/F123"
    validate_slack_request(httpx.Request("POST", url, content=b"x", headers={"Content-Type": "image/png"}))
    with pytest.raises(AssertionError, match="pre-signed"):
        validate_slack_request(httpx.Request("POST", url, content=b"x", headers={**AUTH, "Content-Type": "image/png"}))
