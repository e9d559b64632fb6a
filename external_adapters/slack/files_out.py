"""End-user media as real Slack files in the thread: fetched within bounds, uploaded, shared.

The media URL comes from a message, so it is fetched like any URL the bridge is handed
(:mod:`external_adapters.url_guard`): no private, loopback or link-local address, at the start and after each of at
most :data:`MAX_REDIRECTS` redirects, unless the process allows it (``HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS``), and
through the guarded client (:mod:`external_adapters.guarded_http`), which checks the address connected to. A file
larger than the cap, slower than the time limit, or refused, is posted as a link instead (:class:`MediaUnavailable`).

Slack's upload is three calls: ``files.getUploadURLExternal`` (filename and length), a POST of the bytes to the
``upload_url``, and ``files.completeUploadExternal`` with ``channel_id`` and ``thread_ts``, which shares the file
in the thread as one message. Only the last one posts; see :mod:`.outbound` for how it is made once.
"""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from ..guarded_http import guarded_client
from ..url_guard import ForbiddenUrl, Resolver, check_public_url, resolve_host

MAX_REDIRECTS = 3
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class MediaUnavailable(Exception):
    """The media could not be fetched within the bounds; the message says why (no URL in it)."""


@dataclass(frozen=True)
class Media:
    """Downloaded bytes with the name and MIME type Slack's upload needs."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class FetchRules:
    """The bounds of one download, and the process-wide guarded client (none: a fresh one per download)."""

    max_bytes: int
    time_limit: float
    allow_private: bool = False
    guarded_http: httpx.AsyncClient | None = None
    resolve: Resolver = resolve_host


async def fetch(http: httpx.AsyncClient, url: str, *, kind: str, title: str | None, rules: FetchRules) -> Media:
    """Stream ``url`` into memory within ``rules`` (a GET: nothing to repeat or undo when it fails).

    Raises:
        MediaUnavailable: a forbidden address, non-2xx status, too many redirects, network error, too large, slow.
    """
    try:
        async with asyncio.timeout(rules.time_limit), _client(http, rules) as client:
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


@asynccontextmanager
async def _client(http: httpx.AsyncClient, rules: FetchRules) -> AsyncIterator[httpx.AsyncClient]:
    if rules.allow_private:
        yield http
    elif rules.guarded_http is not None:
        yield rules.guarded_http
    else:
        async with guarded_client(rules.resolve) as fresh:
            yield fresh


async def _follow(http: httpx.AsyncClient, url: httpx.URL, rules: FetchRules) -> tuple[bytes, str | None]:
    """GET ``url``, following redirects by hand so that each new address is checked before it is asked."""
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
    """A safe file name with an extension Slack can preview: from the URL path, else the title or the kind."""
    base = posixpath.basename(unquote(urlsplit(url).path))
    stem, ext = posixpath.splitext(base)
    if not ext and content_type:
        ext = mimetypes.guess_extension(content_type) or ""
    safe_stem = _UNSAFE_NAME.sub("_", stem or title or kind).strip("._") or kind
    return f"{safe_stem[:100]}{ext[:10]}"
