"""The process's two outgoing HTTP clients (Runtime API, helpdesks): their transport, and no cookie jar.

Both clients serve every installation of the process, so a cookie one helpdesk account sets (a load balancer's,
a session's) has no business in the next installation's calls, and neither API authenticates by cookie. httpx
reads every answer's ``Set-Cookie`` into the client's jar through ``urllib``'s cookie machinery (about a tenth of
a call's CPU); :class:`CookielessClient` keeps nothing, so nothing is read or sent.
"""

from __future__ import annotations

from http.cookiejar import CookieJar

import httpx

from .aiohttp_transport import AiohttpTransport
from .settings import Settings


class _NoCookies(httpx.Cookies):
    """A jar that never takes a cookie from an answer (it stays empty, so no request gets a Cookie header)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Ignore the answer's ``Set-Cookie`` headers."""


class CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose cookie jar keeps nothing."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty (see the module docstring)."""
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]]) -> None:
        # httpx's __init__ sets it (to nothing here): there is no jar to fill.
        pass


def outgoing_client(
    settings: Settings, timeout: httpx.Timeout, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """One outgoing client: ``transport`` when given (tests), else the one ``HITL_BRIDGE_HTTP_CLIENT`` names."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    if transport is None and settings.http_client == "aiohttp":
        transport = AiohttpTransport(limits=limits)
    return CookielessClient(timeout=timeout, limits=limits, transport=transport)
