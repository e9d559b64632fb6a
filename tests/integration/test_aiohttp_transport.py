"""The httpx transport on aiohttp's client: what reaches the server, what comes back, and which errors say what.

Real loopback servers (aiohttp's, or a bare asyncio one that hangs up), no mocks: the point is aiohttp's behaviour.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web

from external_adapters.http_retry import RetryPolicy, never_sent, outcome_unknown, send_with_retries
from integration.aiohttp_transport import AiohttpTransport, mapped_error
from integration.app import create_app
from integration.app_keys import BOTPRESS_HTTP, VENDOR_HTTP
from tests import conftest
from tests.live import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)


@asynccontextmanager
async def serving(handler: Handler, seen: list[web.Request] | None = None) -> AsyncIterator[str]:
    """An aiohttp server answering every request with ``handler``; its base URL."""

    async def recording(request: web.Request) -> web.StreamResponse:
        await request.read()
        if seen is not None:
            seen.append(request)
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recording)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def hanging_up(requests: list[bytes]) -> AsyncIterator[str]:
    """A server that reads each request and closes the connection without answering."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def client(seconds: float = 5.0) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport(limits=LIMITS), timeout=seconds) as http:
        yield http


async def test_request_and_answer_go_through_unchanged() -> None:
    seen: list[web.Request] = []

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.text()}, status=201, headers={"x-answer": "yes"})

    async with serving(answer, seen) as url, client() as http:
        response = await http.post(
            f"{url}/v1/chat/users/a%2Fb%20c", params={"tags.id": "1 2"}, json={"k": "é"}, headers={"x-bot-id": "b"}
        )

    assert (response.status_code, response.headers["x-answer"], response.json()) == (201, "yes", {"got": '{"k":"é"}'})
    request = seen[0]
    assert request.raw_path == "/v1/chat/users/a%2Fb%20c?tags.id=1+2"  # ids stay encoded as httpx encoded them
    assert (request.headers["x-bot-id"], request.headers["content-type"]) == ("b", "application/json")


async def test_no_content_type_is_added_to_a_body_sent_without_one() -> None:
    seen: list[web.Request] = []

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async with serving(answer, seen) as url, client() as http:
        await http.post(url, content=b"raw")

    assert "content-type" not in seen[0].headers
    assert seen[0].headers["content-length"] == "3"


async def test_a_long_header_is_read_as_httpx_would_read_it() -> None:
    policy = "default-src 'self' " + "https://assets.example.com " * 400  # ~11 KiB, over aiohttp's 8 KiB default

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text="ok", headers={"content-security-policy": policy})

    async with serving(answer) as url, client() as http:
        response = await http.get(url)

    assert response.headers["content-security-policy"] == policy.strip()


async def test_httpx_decodes_a_compressed_answer() -> None:
    async def answer(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"user": {"id": "u1"}}')
        return web.Response(body=body, headers={"content-encoding": "gzip", "content-type": "application/json"})

    async with serving(answer) as url, client() as http:
        response = await http.get(url)

    assert response.json() == {"user": {"id": "u1"}}


async def test_redirects_come_back_unfollowed() -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"location": "/elsewhere"})

    async with serving(answer) as url, client() as http:
        response = await http.get(url)

    assert (response.status_code, response.headers["location"]) == (302, "/elsewhere")


async def test_a_streamed_answer_arrives_whole() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB, several reads

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body)

    async with serving(answer) as url, client() as http, http.stream("GET", url) as response:
        chunks = [chunk async for chunk in response.aiter_bytes()]

    assert b"".join(chunks) == body


async def test_a_refused_connection_was_never_sent() -> None:
    async with client() as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"http://127.0.0.1:{free_port()}/")

    assert never_sent(caught.value)


async def test_a_server_hanging_up_leaves_the_outcome_unknown_and_a_create_is_not_repeated() -> None:
    requests: list[bytes] = []
    async with hanging_up(requests) as url, client() as http:
        with pytest.raises(httpx.TransportError) as caught:
            await send_with_retries(lambda: http.post(f"{url}/v1/chat/messages", content=b"{}"), idempotent=False)

    assert outcome_unknown(caught.value)
    assert len(requests) == 1


async def test_an_idempotent_call_is_repeated_after_a_hang_up() -> None:
    requests: list[bytes] = []

    async def no_wait(seconds: float) -> None:
        pass

    async with hanging_up(requests) as url, client() as http:
        with pytest.raises(httpx.TransportError):
            await send_with_retries(lambda: http.get(url), RetryPolicy(attempts=3), idempotent=True, sleep=no_wait)

    assert len(requests) >= 3


async def test_a_slow_answer_is_a_read_timeout_of_unknown_outcome() -> None:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async with serving(answer) as url, client(seconds=0.2) as http:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await http.get(url)

    assert outcome_unknown(caught.value)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("waited"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.NonHttpUrlClientError("ftp://x"), httpx.UnsupportedProtocol),
        (aiohttp.ClientError("other"), httpx.ReadError),
        (TimeoutError(), httpx.ReadTimeout),
    ],
)
def test_each_aiohttp_error_maps_to_the_httpx_error_with_the_same_meaning(error: Any, expected: type) -> None:
    mapped = mapped_error(error)

    assert type(mapped) is expected
    assert never_sent(mapped) == (expected in (httpx.ConnectTimeout, httpx.UnsupportedProtocol))


@pytest.mark.parametrize(("setting", "expected"), [("aiohttp", AiohttpTransport), ("httpx", httpx.AsyncHTTPTransport)])
async def test_the_setting_chooses_the_transport_of_both_clients(
    tmp_path: Path, aiohttp_client: Any, setting: str, expected: type
) -> None:
    app = create_app(conftest.test_settings(tmp_path, adapter="zendesk", http_client=setting))
    await aiohttp_client(app)

    assert isinstance(app[BOTPRESS_HTTP]._transport, expected)
    assert isinstance(app[VENDOR_HTTP]._transport, expected)
