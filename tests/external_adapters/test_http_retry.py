"""The shared retry policy follows the Botpress SDK's rules, and never blindly repeats a write of unknown outcome."""

from __future__ import annotations

import email.utils

import httpx
import pytest
import respx

from external_adapters.http_retry import (
    RetryPolicy,
    method_is_idempotent,
    never_sent,
    outcome_unknown,
    retry_after_seconds,
    send_with_retries,
    write_checked,
)
from tests.contracts.lost_answers import lose_answers, read_timeout, reset

URL = "https://desk.example.test/x"


class Script:
    """Answers a scripted sequence of statuses (or network errors) and records the waits."""

    def __init__(self, method: str, *steps: int | Exception, headers: dict[str, str] | None = None) -> None:
        self.request = httpx.Request(method, URL)
        self.idempotent = method_is_idempotent(method)
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
    response = await send_with_retries(
        script.send, RetryPolicy(attempts=4), idempotent=script.idempotent, sleep=script.sleep
    )
    assert (script.calls, response.status_code) == (calls, final)


async def test_a_post_declared_idempotent_is_retried_on_5xx() -> None:
    script = Script("POST", 500, 503, 200)
    response = await send_with_retries(script.send, idempotent=True, sleep=script.sleep)
    assert (script.calls, response.status_code) == (3, 200)


NEVER_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("no connection free")]
UNKNOWN_OUTCOME = [
    httpx.ReadTimeout("no answer"),
    httpx.ReadError("reset"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.WriteError("broken pipe"),
    httpx.WriteTimeout("slow write"),
]


@pytest.mark.parametrize("error", NEVER_SENT, ids=lambda e: type(e).__name__)
async def test_errors_proving_the_request_never_left_are_retried_on_any_call(error: Exception) -> None:
    script = Script("POST", error, error, 201)
    response = await send_with_retries(script.send, idempotent=False, sleep=script.sleep)
    assert response.status_code == 201 and script.calls == 3
    assert never_sent(error) and not outcome_unknown(error)


@pytest.mark.parametrize("error", UNKNOWN_OUTCOME, ids=lambda e: type(e).__name__)
async def test_an_error_of_unknown_outcome_ends_a_write_that_is_not_idempotent(error: Exception) -> None:
    script = Script("POST", error, 201)
    with pytest.raises(type(error)):
        await send_with_retries(script.send, idempotent=False, sleep=script.sleep)
    assert script.calls == 1 and script.waits == []
    assert outcome_unknown(error) and not never_sent(error)


@pytest.mark.parametrize("error", UNKNOWN_OUTCOME, ids=lambda e: type(e).__name__)
async def test_an_error_of_unknown_outcome_is_retried_on_an_idempotent_call(error: Exception) -> None:
    script = Script("PUT", error, 200)
    response = await send_with_retries(script.send, idempotent=True, sleep=script.sleep)
    assert response.status_code == 200 and script.calls == 2


async def test_network_failure_after_every_attempt_is_raised() -> None:
    failing = Script("POST", httpx.ConnectError("refused"))
    with pytest.raises(httpx.ConnectError):
        await send_with_retries(failing.send, RetryPolicy(attempts=3), idempotent=False, sleep=failing.sleep)
    assert failing.calls == 3


class Created:
    """A server that commits every POST it reads, whether or not its answer gets back."""

    def __init__(self) -> None:
        self.items: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.items.append(request.content)
        return httpx.Response(201, json={"id": len(self.items)})


@pytest.mark.parametrize("lose", ["timeout", "reset"])
async def test_a_committed_write_whose_answer_is_lost_is_not_repeated(lose: str) -> None:
    server = Created()
    with respx.mock(base_url=URL) as router:
        router.post("").mock(side_effect=server.handle)
        lost = lose_answers(router).lose("POST", "/x", error=reset if lose == "reset" else read_timeout)
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.TransportError) as caught:
                await send_with_retries(lambda: http.post(URL, content=b"one"), idempotent=False, sleep=_no_sleep)
    assert outcome_unknown(caught.value)
    assert server.items == [b"one"] and len(lost.lost) == 1


async def test_a_committed_idempotent_write_whose_answer_is_lost_is_repeated() -> None:
    server = Created()
    with respx.mock(base_url=URL) as router:
        router.post("").mock(side_effect=server.handle)
        lose_answers(router).lose("POST", "/x")
        async with httpx.AsyncClient() as http:
            response = await send_with_retries(lambda: http.post(URL, content=b"one"), idempotent=True, sleep=_no_sleep)
    assert response.status_code == 201 and server.items == [b"one", b"one"]


async def _no_sleep(seconds: float) -> None:
    pass


class Unknown(Exception):
    pass


class Desk:
    """A write that may lose its answer, and a lookup of what it did."""

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)  # per write: "ok", "lost" (done, answer lost) or "failed" (not done)
        self.done: list[int] = []
        self.writes = 0

    async def write(self) -> int:
        self.writes += 1
        outcome = self.outcomes.pop(0)
        if outcome != "failed":
            self.done.append(self.writes)
        if outcome == "ok":
            return self.writes
        raise Unknown(outcome)

    async def find(self) -> int | None:
        return self.done[-1] if self.done else None


def _is_unknown(exc: Exception) -> bool:
    return isinstance(exc, Unknown)


async def test_write_checked_returns_what_the_check_finds_instead_of_repeating() -> None:
    desk = Desk("lost")
    assert await write_checked(desk.write, desk.find, unknown=_is_unknown) == 1
    assert desk.writes == 1 and desk.done == [1]


async def test_write_checked_repeats_only_what_provably_did_not_happen() -> None:
    desk = Desk("failed", "ok")
    assert await write_checked(desk.write, desk.find, unknown=_is_unknown) == 2
    assert desk.done == [2]


async def test_write_checked_gives_up_after_its_attempts_and_lets_other_errors_through() -> None:
    desk = Desk("failed", "failed")
    with pytest.raises(Unknown):
        await write_checked(desk.write, desk.find, unknown=_is_unknown, attempts=2)
    assert desk.writes == 2 and desk.done == []

    async def refused() -> int:
        raise ValueError("a 4xx")

    with pytest.raises(ValueError):
        await write_checked(refused, desk.find, unknown=_is_unknown)


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
    await send_with_retries(script.send, RetryPolicy(max_wait=30.0), idempotent=False, sleep=script.sleep)
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
    response = await send_with_retries(lambda: script.send(), idempotent=False, sleep=script.sleep)
    assert response.status_code == 201 and script.calls == 2
