"""A plain route table for the HTTP fakes: the routes a fake's ``install(router)`` registers, without respx.

The fakes (:class:`~tests.fake_botpress.FakeBotpress`, ``FakeZendesk`` of ``tests/external_adapters/zendesk``)
register their handlers on a respx router, which the in-process tests need. Used as a dispatcher by the HTTP fakes,
respx costs most of a call's CPU (every route's patterns tried, the handler's signature inspected, the response
cloned, every call recorded forever), which the speed benchmark would count against the server's cores.
:class:`RouteTable` takes the same ``route(method=..., path__regex=..., host=...).mock(side_effect=...)``
registrations and answers in the same way: routes tried in the order registered, the first whose method, host and
path match answers, with the path's named groups as keyword arguments; a handler answering ``None`` does not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import httpx
import respx

Handler = Callable[..., httpx.Response | None]


class NoRoute(LookupError):
    """No route of the table answers this request (respx's ``AllMockedAssertionError``)."""


@dataclass
class _Route:
    method: str
    path: re.Pattern[str]
    host: str | None
    handler: Handler | None = None

    def mock(self, side_effect: Handler) -> _Route:
        """respx's ``Route.mock``: the handler of this route."""
        self.handler = side_effect
        return self


@dataclass
class RouteTable:
    """The routes of one fake, by method, in the order they were registered."""

    by_method: dict[str, list[_Route]] = field(default_factory=dict)

    @classmethod
    def of(cls, install: Callable[[respx.MockRouter], object]) -> RouteTable:
        """The table a fake's ``install`` builds (it only calls ``route(...).mock(...)`` on its router)."""
        table = cls()
        install(cast(respx.MockRouter, table))
        return table

    def route(self, *, method: str, path__regex: str, host: str | None = None) -> _Route:
        """respx's ``MockRouter.route`` for the patterns the fakes use."""
        entry = _Route(method.upper(), re.compile(path__regex), host)
        self.by_method.setdefault(entry.method, []).append(entry)
        return entry

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The first matching route's answer, bound to ``request``; :class:`NoRoute` when none answers."""
        path, host = request.url.path, request.url.host
        for entry in self.by_method.get(request.method, ()):
            found = entry.path.match(path)
            if found is None or (entry.host is not None and entry.host != host) or entry.handler is None:
                continue
            answer = entry.handler(request, **found.groupdict())
            if answer is not None:
                answer.request = request
                return answer
        raise NoRoute(f"{request.method} {path}")
