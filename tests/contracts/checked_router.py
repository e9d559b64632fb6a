"""The respx router that checks each request to one vendor, and each answer mocked for it, against its contract.

Shared by the Botpress, Zendesk and Slack routers: each says which requests are its vendor's
(:meth:`ContractRouter.covers`) and how one request and one answer are validated; this class refuses (and
remembers) any that break the contract, as they are made and again at the end of the test.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import respx


class ContractRouter(respx.MockRouter):
    """A respx router that refuses (and remembers, once each) any covered request or mocked answer breaking a contract.

    Set ``check_responses = False`` in a test that deliberately mocks a malformed answer.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.violations: list[str] = []
        self.check_responses = True

    def covers(self, request: httpx.Request) -> bool:
        """Whether ``request`` goes to this router's vendor (the others are not checked here)."""
        raise NotImplementedError

    def validate_request(self, request: httpx.Request) -> None:
        """Raise :class:`AssertionError` saying how ``request`` breaks the contract."""
        raise NotImplementedError

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """Raise :class:`AssertionError` saying how the answer mocked for ``request`` breaks the contract."""
        raise NotImplementedError

    def _check(self, request: httpx.Request, response: httpx.Response | None) -> None:
        if not self.covers(request):
            return
        try:
            self.validate_request(request)
            if response is not None and self.check_responses:
                self.validate_response(request, response)
        except AssertionError as exc:
            if str(exc) not in self.violations:
                self.violations.append(str(exc))
            raise

    def resolve(self, request: httpx.Request) -> Any:
        self._check(request, None)
        resolved = super().resolve(request)
        if isinstance(resolved.response, httpx.Response):
            self._check(request, resolved.response)
        return resolved

    async def aresolve(self, request: httpx.Request) -> Any:
        self._check(request, None)
        resolved = await super().aresolve(request)
        if isinstance(resolved.response, httpx.Response):
            self._check(request, resolved.response)
        return resolved

    def recheck_calls(self) -> list[str]:
        """Validate every recorded request again; return the violations seen so far (empty when all is well)."""
        for call in self.calls:
            with contextlib.suppress(AssertionError):
                self._check(call.request, None)
        return self.violations
