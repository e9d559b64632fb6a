"""An HTTP client that connects only to public addresses: the SSRF check made where it cannot be dodged.

:func:`external_adapters.url_guard.check_public_url` judges a URL before it is fetched, but an ordinary client
resolves the name once more when it connects, and a DNS server may answer differently the second time (DNS
rebinding: a public address to the check, ``127.0.0.1`` to the connection). The client of :func:`guarded_client`
leaves no second lookup: its network backend (:class:`GuardedBackend`) resolves the host itself, refuses the
connection with :class:`~external_adapters.url_guard.ForbiddenUrl` if any address is not public, and connects to
the IP it checked. The request keeps its URL, so the ``Host`` header, the connection pool (one per host name) and
TLS are unchanged: httpcore hands the host name, not the IP, to ``start_tls`` as ``server_hostname``, so the
certificate is still verified for the name.

httpx's own transport takes no network backend, so :class:`GuardedTransport` is the small bridge from an httpx
client to an httpcore pool that does, turning httpcore's errors into httpx's as httpx does. The client ignores
``HTTP(S)_PROXY``: through a proxy the connection would go to the proxy, and the address of the file would never
be checked where it matters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from .url_guard import Resolver, public_addresses, resolve_host

GUARDED_TIMEOUT_SECONDS = 30.0

_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    # Most specific first: the first match wins.
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)
_CORE_ERRORS = tuple(core for core, _ in _HTTPX_ERRORS)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects to a host only through addresses it has just resolved and found public.

    ``resolve`` is the same injectable resolver as the URL check's; ``inner`` does the real connecting (anyio's
    backend by default; tests pass one that records the address instead of touching the network).
    """

    def __init__(self, resolve: Resolver = resolve_host, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._resolve = resolve
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature: it passes the connect timeout
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first checked address of ``host`` that answers, trying them in the resolver's order.

        Raises:
            ForbiddenUrl: ``host`` does not resolve, or resolves to one non-public address (nothing is connected).
            httpcore.ConnectError: no checked address accepted the connection.
        """
        *others, last = await public_addresses(host, port, self._resolve)
        for address in others:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # the next checked address may answer, as a resolving client would try it
        return await self._inner.connect_tcp(last, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Wait as the inner backend does (httpcore sleeps between connection retries)."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool that connects through a :class:`GuardedBackend`."""

    def __init__(self, backend: GuardedBackend, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=20, max_keepalive_connections=10)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; its URL (so its host name) is passed on unchanged."""
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            core_response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_Body(core_response),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()


class _Body(httpx.AsyncByteStream):
    """An httpcore response body read as an httpx stream, its errors turned into httpx's."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._response.aiter_stream():
                yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """Raise httpcore's errors as the httpx ones callers catch (ForbiddenUrl and others pass unchanged)."""
    try:
        yield
    except _CORE_ERRORS as exc:
        mapped = next(target for core, target in _HTTPX_ERRORS if isinstance(exc, core))
        raise mapped(str(exc)) from exc


def guarded_client(
    resolve: Resolver = resolve_host,
    *,
    inner: httpcore.AsyncNetworkBackend | None = None,
    timeout: float = GUARDED_TIMEOUT_SECONDS,
) -> httpx.AsyncClient:
    """A client whose every connection goes to a checked public address; close it (``async with``) when done.

    ``trust_env`` is off so that no proxy from the environment stands between the check and the connection.
    """
    transport = GuardedTransport(GuardedBackend(resolve, inner))
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout), trust_env=False)
