"""Refusing URLs that point inside the network: the SSRF check for fetches of URLs the bridge was handed.

A Botpress message's media URL (or anything else an installation's configuration or a user controls) could
name ``http://169.254.169.254/`` (cloud metadata), ``http://localhost:6379/`` or a host on the private network.
Before such a fetch, and again before following each redirect, :func:`check_public_url` resolves the host and
refuses the URL if ANY of its addresses is not a public unicast one. IP literals go through the same resolver,
so ``http://2130706433/`` (127.0.0.1 as one number) and ``[::ffff:10.0.0.1]`` are caught too.

That check alone would leave a window: an HTTP client resolves the name again when it connects, so a DNS server
answering a public address to the check and a private one to the connection (DNS rebinding) would get through.
:mod:`external_adapters.guarded_http` closes it: its client makes the same check (:func:`public_addresses`) at
connect time and connects to the very address it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``resolve(host, port)``: every address ``host`` resolves to, as text."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class ForbiddenUrl(Exception):
    """The URL is not an http(s) URL of a public host; the message says why (the host, never the full URL)."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address of ``host`` from the system resolver (``getaddrinfo``, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_public_url(url: httpx.URL, resolve: Resolver = resolve_host) -> None:
    """Refuse ``url`` unless it is http(s) and every address of its host is public.

    Raises:
        ForbiddenUrl: another scheme, a host that does not resolve, or one non-public address.
    """
    if url.scheme not in ("http", "https") or not url.host:
        raise ForbiddenUrl("only http(s) URLs with a host are fetched")
    await public_addresses(url.host, url.port or (443 if url.scheme == "https" else 80), resolve)


async def public_addresses(host: str, port: int, resolve: Resolver = resolve_host) -> list[str]:
    """Every address of ``host``, once each in the resolver's order, all of them public.

    Raises:
        ForbiddenUrl: the host does not resolve, or one of its addresses is not public.
    """
    try:
        addresses = list(dict.fromkeys(await resolve(host, port)))
    except (OSError, UnicodeError):
        raise ForbiddenUrl(f"host {host!r} does not resolve") from None
    if not addresses:
        raise ForbiddenUrl(f"host {host!r} does not resolve")
    for address in addresses:
        if not is_public_address(address):
            raise ForbiddenUrl(f"host {host!r} resolves to a non-public address ({address})")
    return addresses


def is_public_address(text: str) -> bool:
    """Whether ``text`` is a globally routable unicast address (IPv4 inside IPv6 forms judged as IPv4)."""
    address = _embedded_ipv4(ipaddress.ip_address(text.split("%", 1)[0]))
    blocked = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
    return address.is_global and not blocked


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), else the address itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address
