"""The guarded client connects only to addresses it has just checked: no DNS-rebinding window, TLS unchanged."""

# The fakes implement httpcore's network interface, whose methods take a timeout argument.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest

from external_adapters.guarded_http import GuardedBackend, guarded_client
from external_adapters.url_guard import ForbiddenUrl

PUBLIC = "93.184.215.14"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


@dataclass
class Listener:
    """A real TCP server on 127.0.0.1 that counts the connections it accepts."""

    port: int = 0
    accepted: int = 0


@pytest.fixture
async def loopback() -> AsyncIterator[Listener]:
    listener = Listener()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.accepted += 1
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


class FakeStream(httpcore.AsyncNetworkStream):
    """A connection that answers :data:`ANSWER` to whatever is written, and records the TLS host name."""

    def __init__(self, tls_names: list[str | None]) -> None:
        self.tls_names = tls_names
        self.unread = ANSWER

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        chunk, self.unread = self.unread[:max_bytes], self.unread[max_bytes:]
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self.tls_names.append(server_hostname)
        return self


@dataclass
class FakeNetwork(httpcore.AsyncNetworkBackend):
    """Records the address each connection is made to; the addresses in ``down`` refuse it."""

    connected: list[tuple[str, int]] = field(default_factory=list)
    tls_names: list[str | None] = field(default_factory=list)
    down: frozenset[str] = frozenset()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host in self.down:
            raise httpcore.ConnectError(f"{host} refused")
        self.connected.append((host, port))
        return FakeStream(self.tls_names)


class ScriptedDns:
    """Answers each lookup with the next list of addresses (the last one again once the script runs out)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def test_a_name_resolving_inside_is_refused_and_nothing_is_connected(loopback: Listener) -> None:
    backend = GuardedBackend(ScriptedDns(["127.0.0.1"]))
    with pytest.raises(ForbiddenUrl, match=r"non-public address \(127\.0\.0\.1\)"):
        await backend.connect_tcp("media.example.com", loopback.port)
    assert loopback.accepted == 0


async def test_the_check_at_connect_time_holds_when_the_second_answer_is_private(loopback: Listener) -> None:
    rebinding = ScriptedDns([PUBLIC], ["127.0.0.1"])
    assert await rebinding("media.example.com", loopback.port) == [PUBLIC]  # what a check before the request saw
    async with guarded_client(rebinding) as client:
        with pytest.raises(ForbiddenUrl, match="non-public"):
            await client.get(f"http://media.example.com:{loopback.port}/x.png")
    assert loopback.accepted == 0 and rebinding.lookups == ["media.example.com"] * 2


async def test_one_private_address_among_public_ones_refuses_the_connection() -> None:
    network = FakeNetwork()
    backend = GuardedBackend(ScriptedDns([PUBLIC, "10.1.2.3"]), network)
    with pytest.raises(ForbiddenUrl, match=r"\(10\.1\.2\.3\)"):
        await backend.connect_tcp("files.example.com", 443)
    assert network.connected == []


async def test_the_connection_goes_to_the_checked_address_and_tls_verifies_the_name() -> None:
    network = FakeNetwork()
    async with guarded_client(ScriptedDns([PUBLIC]), inner=network) as client:
        response = await client.get("https://files.example.com/cat.png")
    assert response.status_code == 200 and response.text == "ok"
    assert network.connected == [(PUBLIC, 443)] and network.tls_names == ["files.example.com"]
    assert response.request.headers["host"] == "files.example.com"


async def test_the_next_checked_address_is_tried_when_one_refuses() -> None:
    network = FakeNetwork(down=frozenset({PUBLIC}))
    backend = GuardedBackend(ScriptedDns([PUBLIC, "8.8.8.8"]), network)
    await backend.connect_tcp("files.example.com", 80)
    assert network.connected == [("8.8.8.8", 80)]


async def test_network_errors_are_httpx_errors() -> None:
    network = FakeNetwork(down=frozenset({PUBLIC}))
    async with guarded_client(ScriptedDns([PUBLIC]), inner=network) as client:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.get("http://files.example.com/cat.png")
