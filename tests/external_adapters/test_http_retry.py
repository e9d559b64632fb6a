"""The shared retry policy follows the Botpress SDK's rules."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from external_adapters.http_retry import RetryPolicy, retry_after_seconds, send_with_retries


class Script:
    """Answers a scripted sequence of statuses (or network errors) and records the waits."""

    def __init__(self, method: str, *steps: int | Exception, headers: dict[str, str] | None = None) -> None:
        self.request = httpx.Request(method, "https://desk.example.test/x")
        self.steps = list(steps)
        self.headers = headers or {}
        self.calls = 0
        self.waits: list[float] = []

    async def send(self) -> httpx.Response:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, headers=self.headers, request=self.request)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize(
    ("method", "steps", "calls", "final"),
    [
        ("POST", (429, 200), 2, 200),
        ("POST", (502, 201), 2, 201),
        ("POST", (500, 201), 1, 500),
        ("POST", (503, 201), 1, 503),
        ("GET", (500, 503, 200), 3, 200),
        ("PUT", (504, 200), 2, 200),
        ("GET", (400, 200), 1, 400),
        ("DELETE", (404, 200), 1, 404),
        ("GET", (500,), 4, 500),
    ],
)
async def test_status_matrix(method: str, steps: tuple[int, ...], calls: int, final: int) -> None:
    script = Script(method, *steps)
    response = await send_with_retries(script.send, RetryPolicy(attempts=4), sleep=script.sleep)
    assert (script.calls, response.status_code) == (calls, final)


async def test_network_errors_are_retried_then_raised() -> None:
    script = Script("POST", httpx.ConnectError("refused"), httpx.ReadError("reset"), 201)
    response = await send_with_retries(script.send, sleep=script.sleep)
    assert response.status_code == 201 and script.calls == 3
    failing = Script("POST", httpx.ConnectError("refused"))
    with pytest.raises(httpx.ConnectError):
        await send_with_retries(failing.send, RetryPolicy(attempts=3), sleep=failing.sleep)
    assert failing.calls == 3


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"RateLimit-Reset": "3", "Retry-After": "9"}, 3.0),
        ({"X-RateLimit-Reset": "2.5"}, 2.5),
        ({"Retry-After": "3600"}, 30.0),
        ({}, 1.0),
    ],
)
async def test_wait_honours_reset_headers_and_is_bounded(headers: dict[str, str], wait: float) -> None:
    script = Script("POST", 429, 200, headers=headers)
    await send_with_retries(script.send, RetryPolicy(max_wait=30.0), sleep=script.sleep)
    assert script.waits == [wait]


def test_retry_after_as_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 12, usegmt=True)
    response = httpx.Response(429, headers={"Retry-After": header}, request=httpx.Request("GET", "https://x"))
    assert retry_after_seconds(response, now=now) == pytest.approx(12, abs=1)


def test_unparseable_reset_header_is_ignored() -> None:
    response = httpx.Response(429, headers={"Retry-After": "soon"}, request=httpx.Request("GET", "https://x"))
    assert retry_after_seconds(response) is None


async def test_a_lambda_returning_a_coroutine_is_retried_too() -> None:
    script = Script("POST", 429, 201)
    response = await send_with_retries(lambda: script.send(), sleep=script.sleep)
    assert response.status_code == 201 and script.calls == 2
