"""Bounded download of an end user's media: the bytes of a file URL from a message, or a reason why not.

Shared by the adapters that re-upload end users' files (Zendesk's attachments, Slack's files in the thread).
The URL comes from a message, so it is checked like any URL the bridge was handed
(:mod:`external_adapters.url_guard`): no private, loopback or link-local address, at the start and after each
of at most :data:`MAX_REDIRECTS` redirects, unless the process allows it (``allow_private``, from
``HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS``). The check is made twice: before each request, for a clear reason, and
at connect time on the address actually connected to (:mod:`external_adapters.guarded_http`), so that a name
answering a public address to the first and a private one to the second (DNS rebinding) still gets nowhere; the
shared client is used only when private addresses are allowed. With ``slots`` (an adapter's process-wide
semaphore of :data:`MAX_CONCURRENT_DOWNLOADS`), at most that many downloads run at once, so at most that many
times ``max_bytes`` are held in memory; waiting for a slot counts in the time limit, so a flood of media turns
into links, not into requests that hang. A file larger than the cap, slower than the limit, or refused, raises
:class:`MediaUnavailable`, which the adapter turns into a link.
"""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from .guarded_http import guarded_client
from .url_guard import ForbiddenUrl, Resolver, check_public_url, resolve_host

MAX_MEDIA_BYTES = 20 * 1024 * 1024
MEDIA_TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 3
MAX_CONCURRENT_DOWNLOADS = 8
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class MediaUnavailable(Exception):
    """The media could not be fetched within the bounds; the message says why (no URL in it)."""


@dataclass(frozen=True)
class Media:
    """Downloaded bytes with the name and MIME type a helpdesk's upload needs."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class DownloadRules:
    """The bounds of one download: size, time, which addresses, and the process-wide slots and guarded client.

    ``slots`` limits the downloads running at once (none: no limit). ``guarded_http`` is the process-wide
    :func:`~external_adapters.guarded_http.guarded_client` (made with the same ``resolve``); without one, each
    download that needs it makes and closes its own.
    """

    max_bytes: int = MAX_MEDIA_BYTES
    time_limit: float = MEDIA_TIMEOUT_SECONDS
    allow_private: bool = False
    resolve: Resolver = resolve_host
    slots: asyncio.Semaphore | None = None
    guarded_http: httpx.AsyncClient | None = None


async def download(
    http: httpx.AsyncClient, url: str, *, kind: str, title: str | None = None, rules: DownloadRules | None = None
) -> Media:
    """Stream ``url`` into memory within ``rules`` (a GET: nothing to repeat or undo when it fails).

    ``http`` (the shared client) is used only when ``rules.allow_private``; otherwise the guarded client is.

    Raises:
        MediaUnavailable: a forbidden address, non-2xx status, too many redirects, network error, too large,
            or too slow (waiting for a download slot included).
    """
    rules = rules or DownloadRules()
    try:
        async with asyncio.timeout(rules.time_limit), _slot(rules), _client(http, rules) as client:
            content, header_type = await _follow(client, httpx.URL(url), rules)
    except TimeoutError:
        raise MediaUnavailable(f"download took longer than {rules.time_limit:g}s") from None
    except ForbiddenUrl as exc:
        raise MediaUnavailable(f"download refused: {exc}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise MediaUnavailable(f"download failed ({type(exc).__name__})") from None
    name = filename_for(url, title, header_type, kind)
    content_type = header_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Media(filename=name, content_type=content_type, content=content)


def _slot(rules: DownloadRules) -> AbstractAsyncContextManager[object]:
    """A download slot of the process when the adapter limits them, else nothing to wait for."""
    return rules.slots if rules.slots is not None else nullcontext()


@asynccontextmanager
async def _client(http: httpx.AsyncClient, rules: DownloadRules) -> AsyncIterator[httpx.AsyncClient]:
    """The shared client when private addresses are allowed, else the guarded one (a fresh one if none is given)."""
    if rules.allow_private:
        yield http
    elif rules.guarded_http is not None:
        yield rules.guarded_http
    else:
        async with guarded_client(rules.resolve) as fresh:
            yield fresh


async def _follow(http: httpx.AsyncClient, url: httpx.URL, rules: DownloadRules) -> tuple[bytes, str | None]:
    """GET ``url``, following redirects by hand so that each new address is checked before it is asked.

    The check here gives the clear reason; the guarded client's check at connect time is the one that holds.
    """
    for _ in range(MAX_REDIRECTS + 1):
        if not rules.allow_private:
            await check_public_url(url, rules.resolve)
        async with http.stream("GET", url, follow_redirects=False) as response:
            if response.next_request is None:
                return await _read(response, rules.max_bytes)
            url = response.next_request.url
    raise MediaUnavailable(f"more than {MAX_REDIRECTS} redirects")


async def _read(response: httpx.Response, max_bytes: int) -> tuple[bytes, str | None]:
    if response.status_code >= 300:
        raise MediaUnavailable(f"download answered HTTP {response.status_code}")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise MediaUnavailable(f"file is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise MediaUnavailable(f"file is larger than {max_bytes} bytes")
        chunks.append(chunk)
    header_type = response.headers.get("content-type", "").split(";")[0].strip() or None
    return b"".join(chunks), header_type


def filename_for(url: str, title: str | None, content_type: str | None, kind: str) -> str:
    """A safe file name with an extension the helpdesk can preview: from the URL path, else the title or kind."""
    base = posixpath.basename(unquote(urlsplit(url).path))
    stem, ext = posixpath.splitext(base)
    if not ext and content_type:
        ext = mimetypes.guess_extension(content_type) or ""
    safe_stem = _UNSAFE_NAME.sub("_", stem or title or kind).strip("._") or kind
    return f"{safe_stem[:100]}{ext[:10]}"
