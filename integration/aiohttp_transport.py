"""An httpx transport on aiohttp's client: the same ``httpx.AsyncClient`` for every caller, less CPU per request.

Why: at concurrency 32, httpcore's connection pool (a scan of every connection on each request and release, each
check going through anyio's socket attributes) and h11 were about half of a message's server CPU
(docs/benchmarks.md). aiohttp, already the server's framework, keeps its pool by host and parses HTTP in C.

What stays with httpx: the client API, redirects (never followed here: ``allow_redirects=False``), decoding of
``Content-Encoding`` (aiohttp's is off), cookies, proxies from the environment (httpx mounts its own transports
for them), the timeouts' meaning and its exception types. The mapping of aiohttp's errors keeps the one thing the
retry policy relies on (:mod:`external_adapters.http_retry`): only an error raised before any byte of the request
was written becomes a ``ConnectError``, ``ConnectTimeout`` (waiting for a connection included), ``ProxyError`` or
``UnsupportedProtocol``; every other one (a reset, a server that hung up, a read timeout) says the outcome is
unknown. aiohttp repeats by itself only an idempotent method's request on a pooled connection the server had
closed, as httpcore does.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from yarl import URL

MAX_HEAD_BYTES = 16 * 1024
NEVER_SENT: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS handshake: before the request
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # a free connection, then connecting: not sent
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.InvalidUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
)
"""aiohttp's errors raised before anything was written, in the order they are tried (subclasses first)."""
MAYBE_SENT: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientOSError, httpx.ReadError),
    (TimeoutError, httpx.ReadTimeout),
)
"""Errors after which the server may have acted: the retry policy repeats the request only if it is idempotent."""


def mapped_error(exc: aiohttp.ClientError | TimeoutError) -> httpx.TransportError:
    """The httpx error an aiohttp error stands for; one not listed is taken as "maybe sent" (a read error)."""
    target = next((target for source, target in NEVER_SENT + MAYBE_SENT if isinstance(exc, source)), httpx.ReadError)
    return target(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise mapped_error(exc) from exc


class _Body(httpx.AsyncByteStream):
    """The answer's body as aiohttp reads it (whole chunks as they arrive); closing releases the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    """httpx's timeouts of this request: waiting for a connection and connecting, then each read."""
    limits = request.extensions.get("timeout", {})
    pool, connect = limits.get("pool"), limits.get("connect")
    # aiohttp's ``connect`` covers the wait for a pooled connection and the connecting; httpx bounds each.
    acquire = None if pool is None or connect is None else pool + connect
    return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=limits.get("read"))


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with one ``aiohttp.ClientSession`` (made on first use, in the running loop)."""

    def __init__(self, *, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._limits = limits
        # httpx's own default: certifi's CAs (and SSL_CERT_FILE/SSL_CERT_DIR), so verification does not change.
        self._ssl = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies, as with its own transport
                auto_decompress=False,  # httpx decodes Content-Encoding
                trust_env=False,  # httpx routes proxied URLs to its own proxy transports
                skip_auto_headers=("Content-Type",),  # no application/octet-stream httpx would not have sent
                timeout=aiohttp.ClientTimeout(total=None),
                # h11 (httpx's parser) takes a head of up to 16 KiB; aiohttp's default is 8 KiB per line or field.
                max_line_size=MAX_HEAD_BYTES,
                max_field_size=MAX_HEAD_BYTES,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the answer with its body still to read (streamed from aiohttp)."""
        with _mapped():
            response = await self._client().request(
                request.method,
                URL(str(request.url), encoded=True),  # httpx encoded it; yarl must not requote ids
                headers=request.headers.multi_items(),
                data=(await request.aread()) or None,
                allow_redirects=False,
                timeout=_timeout(request),
            )
        extensions = {"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()}
        return httpx.Response(
            response.status, headers=response.raw_headers, stream=_Body(response), extensions=extensions
        )

    async def aclose(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
