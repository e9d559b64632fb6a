"""One retry policy for every outgoing HTTP call, modelled on the Botpress SDK's ``retry.ts``.

* network errors (no response) are retried on any method;
* 429 and 502 are retried on any method (the server did not act on the request);
* other 5xx are retried only on idempotent methods, so a retried POST cannot create twice;
* the wait honours ``RateLimit-Reset``, ``X-RateLimit-Reset`` or ``Retry-After`` (seconds or an
  HTTP date), else grows with the attempt number, and is always bounded by ``max_wait``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, retry_if_result, stop_after_attempt

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ALWAYS_RETRIED_STATUSES = frozenset({429, 502})
RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset", "retry-after")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try, and how long to wait at most between tries."""

    attempts: int = 4
    max_wait: float = 30.0
    base_wait: float = 1.0
    retry_statuses_any_method: frozenset[int] = ALWAYS_RETRIED_STATUSES


def should_retry_response(response: httpx.Response, policy: RetryPolicy = RetryPolicy()) -> bool:
    """Whether a response is worth another try under the SDK's rules."""
    if response.status_code in policy.retry_statuses_any_method:
        return True
    return response.status_code >= 500 and response.request.method.upper() in IDEMPOTENT_METHODS


def is_network_error(exc: BaseException) -> bool:
    """Errors where the server never answered: always safe to retry."""
    return isinstance(exc, httpx.TransportError)


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """The wait a response asks for, from the first reset header present, or ``None``."""
    for name in RESET_HEADERS:
        value = response.headers.get(name)
        if value:
            parsed = _parse_delay(value.strip(), time.time() if now is None else now)
            if parsed is not None:
                return max(parsed, 0.0)
    return None


def _parse_delay(value: str, now: float) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            asked = retry_after_seconds(outcome.result())
            if asked is not None:
                return min(asked, policy.max_wait)
        return min(policy.base_wait * state.attempt_number, policy.max_wait)

    return wait


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> httpx.Response:
    """Call ``send`` until it gives a final response, or the attempts run out.

    Returns the last response (which may still be an error status: mapping it is the caller's job).
    Re-raises the last network error when every attempt failed without a response.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=retry_if_exception(is_network_error) | retry_if_result(lambda r: should_retry_response(r, policy)),
        retry_error_callback=_last_outcome,
        reraise=True,
    )
    if sleep is not None:
        retrying = retrying.copy(sleep=sleep)

    # tenacity awaits only coroutine functions: wrap, so a lambda returning a coroutine works too.
    async def attempt() -> httpx.Response:
        return await send()

    response: httpx.Response = await retrying(attempt)
    return response


def _last_outcome(state: RetryCallState) -> httpx.Response:
    assert state.outcome is not None
    return state.outcome.result()  # type: ignore[no-any-return]
