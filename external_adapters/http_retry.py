"""One retry policy for every outgoing HTTP call, modelled on the Botpress SDK's ``retry.ts``, with one change:
a request whose repetition could act twice is never repeated blindly.

Each call says whether it is *idempotent* (repeating it leaves the same result: GET, PUT, DELETE, a get-or-create,
a set of a state, an upsert) or not (a create: a ticket, a trigger, a webhook, an upload, an event).

* a network error that proves the request never reached the server (:data:`NEVER_SENT_ERRORS`: connecting,
  the TLS handshake, waiting for a pooled connection, a proxy tunnel) is retried on any call;
* any other network error (a read timeout, a reset, a broken write: the server may have acted) is retried only on
  an idempotent call; on other calls it is re-raised at once: its outcome is unknown (:func:`outcome_unknown`),
  and only the caller can check whether it took effect (see :func:`write_checked`);
* 429 and 502 are retried on any call (the server did not act on the request);
* other 5xx are retried only on idempotent calls, so a retried create cannot create twice;
* the wait honours ``RateLimit-Reset``, ``X-RateLimit-Reset`` or ``Retry-After`` (seconds or an
  HTTP date), else grows with the attempt number, and is always bounded by ``max_wait``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ALWAYS_RETRIED_STATUSES = frozenset({429, 502})
RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset", "retry-after")
NEVER_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,  # httpcore raises it only while connecting or during the TLS handshake
    httpx.ConnectTimeout,
    httpx.PoolTimeout,  # no connection was free: nothing was written
    httpx.ProxyError,  # the proxy refused the tunnel before the request went through it
    httpx.UnsupportedProtocol,
)
"""Transport errors raised before any byte of the request was written."""

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try, and how long to wait at most between tries."""

    attempts: int = 4
    max_wait: float = 30.0
    base_wait: float = 1.0
    retry_statuses_any_method: frozenset[int] = ALWAYS_RETRIED_STATUSES


def method_is_idempotent(method: str) -> bool:
    """Whether an HTTP method is idempotent by definition (a POST or a PATCH may still be, by its endpoint)."""
    return method.upper() in IDEMPOTENT_METHODS


def should_retry_response(
    response: httpx.Response, policy: RetryPolicy = RetryPolicy(), *, idempotent: bool | None = None
) -> bool:
    """Whether a response is worth another try (``idempotent`` defaults to the request's method)."""
    if response.status_code in policy.retry_statuses_any_method:
        return True
    if idempotent is None:
        idempotent = method_is_idempotent(response.request.method)
    return response.status_code >= 500 and idempotent


def is_network_error(exc: BaseException) -> bool:
    """Errors where no answer came back (the request may or may not have been acted on)."""
    return isinstance(exc, httpx.TransportError)


def never_sent(exc: BaseException) -> bool:
    """Whether the error proves the request never reached the server: safe to repeat any request."""
    return isinstance(exc, NEVER_SENT_ERRORS)


def outcome_unknown(exc: BaseException) -> bool:
    """Whether the request may have reached the server although no answer came back."""
    return is_network_error(exc) and not never_sent(exc)


def _retry_error(idempotent: bool) -> Callable[[BaseException], bool]:
    return is_network_error if idempotent else never_sent


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


def wait_before_retry(policy: RetryPolicy, attempt: int, response: httpx.Response | None) -> float:
    """Seconds to wait after try number ``attempt`` (from 1): what the answer asks for, else growing; bounded."""
    asked = retry_after_seconds(response) if response is not None else None
    if asked is not None:
        return min(asked, policy.max_wait)
    return min(policy.base_wait * attempt, policy.max_wait)


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    idempotent: bool,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> httpx.Response:
    """Call ``send`` until it gives a final response, or the attempts run out.

    ``idempotent`` says whether repeating the request is harmless (see the module docstring).
    Returns the last response (which may still be an error status: mapping it is the caller's job).
    Re-raises the last network error when every attempt failed without a response, and at once a network error
    of unknown outcome on a call that is not idempotent (:func:`outcome_unknown` is then true).
    A plain loop rather than a retry library: it runs around every outgoing call, and the first try, nearly
    always the last, then costs nothing more than the call.
    """
    retryable_error = _retry_error(idempotent)
    for attempt in range(1, policy.attempts + 1):
        response: httpx.Response | None = None
        try:
            response = await send()
        except Exception as exc:
            if attempt == policy.attempts or not retryable_error(exc):
                raise
        else:
            if attempt == policy.attempts or not should_retry_response(response, policy, idempotent=idempotent):
                return response
        await (asyncio.sleep if sleep is None else sleep)(wait_before_retry(policy, attempt, response))
    raise ValueError("a retry policy needs at least one attempt")


async def write_checked(
    write: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
    *,
    unknown: Callable[[Exception], bool],
    attempts: int = 3,
) -> T:
    """Do a write that is not idempotent; after a failure of unknown outcome, check before repeating it.

    ``unknown(error)`` says whether ``write`` failed in a way that may still have taken effect (no answer to a
    request that may have reached the server, a gateway timeout...). ``find`` then looks for the write's effect
    (the ticket by its key, the trigger by its title, ...) and returns it, or ``None`` when it proves the write
    did not happen. Only then is ``write`` repeated, ``attempts`` times in all; the last such error is re-raised.
    Any other error of either callable propagates at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await write()
        except Exception as exc:
            if not unknown(exc):
                raise
            found = await find()
            if found is not None:
                return found
            if attempt == attempts:
                raise
    raise ValueError("attempts must be at least 1")
