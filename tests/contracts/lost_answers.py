"""Lost answers: the fake behind a contract-checked router commits a request, then its answer never arrives.

:func:`lose_answers` wraps every route of a respx router (``bp_api``, ``zendesk_api``, or any other). After
``lost.lose("POST", r"/api/v2/tickets")`` the next matching request is still validated by the router and handed
to the fake's own handler, so the write really happens (a ticket exists, an event was emitted); then, instead of
the answer, the client gets ``httpx.ReadTimeout`` (or the error given, e.g. :func:`reset`). This is what a read
timeout or a connection reset after the request was sent looks like to the client: the outcome is unknown.

Tests then count what the fake holds: a retry-safe client leaves exactly one ticket, trigger, event...
:meth:`LostAnswers.fail` is the opposite case: the server answers an error *without* committing (a 500 before
the write), so the client's check finds nothing and the write must be repeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

ErrorFactory = Callable[[httpx.Request], Exception]


def read_timeout(request: httpx.Request) -> Exception:
    """The answer did not come back in time."""
    return httpx.ReadTimeout("timed out reading the answer", request=request)


def reset(request: httpx.Request) -> Exception:
    """The server closed the connection after reading the request, before answering (a reset)."""
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    times: int
    error: ErrorFactory | None = None
    answer: httpx.Response | None = None

    def takes(self, request: httpx.Request) -> bool:
        return self.times > 0 and request.method == self.method and bool(self.path.search(request.url.path))


@dataclass
class LostAnswers:
    """The rules of which answers to lose, and the requests whose answers were lost (after they committed)."""

    rules: list[_Rule] = field(default_factory=list)
    failures: list[_Rule] = field(default_factory=list)
    lost: list[httpx.Request] = field(default_factory=list)

    def lose(self, method: str, path: str, *, times: int = 1, error: ErrorFactory = read_timeout) -> LostAnswers:
        """Lose the answers of the next ``times`` requests with this method whose path matches ``path`` (a regex)."""
        self.rules.append(_Rule(method.upper(), re.compile(path), times, error))
        return self

    def fail(self, method: str, path: str, answer: httpx.Response, *, times: int = 1) -> LostAnswers:
        """Answer the next ``times`` matching requests with ``answer``, without letting the fake commit them."""
        self.failures.append(_Rule(method.upper(), re.compile(path), times, answer=answer))
        return self

    def _before_commit(self, request: httpx.Request) -> httpx.Response | None:
        rule = _take(self.failures, request)
        return rule.answer if rule is not None else None

    def _after_commit(self, request: httpx.Request, response: Any) -> Any:
        rule = _take(self.rules, request)
        if rule is None or rule.error is None:
            return response
        self.lost.append(request)
        raise rule.error(request)


def _take(rules: list[_Rule], request: httpx.Request) -> _Rule | None:
    rule = next((rule for rule in rules if rule.takes(request)), None)
    if rule is not None:
        rule.times -= 1
    return rule


def lose_answers(router: respx.MockRouter) -> LostAnswers:
    """Wrap every route of ``router`` so that :meth:`LostAnswers.lose` can drop answers after the fake committed."""
    lost = LostAnswers()
    for route in router.routes:
        route.side_effect = _wrapped(route, lost)
    return lost


def _wrapped(route: respx.Route, lost: LostAnswers) -> Callable[..., Any]:
    original = route.side_effect
    fixed = route.return_value

    def effect(request: httpx.Request, **params: Any) -> Any:
        refused = lost._before_commit(request)
        if refused is not None:
            return refused
        response = original(request, **params) if callable(original) else fixed
        return lost._after_commit(request, response)

    return effect
