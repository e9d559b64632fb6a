"""Bounded media download: the bytes of a Botpress file URL, or a reason why not."""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

MAX_MEDIA_BYTES = 20 * 1024 * 1024
MEDIA_TIMEOUT_SECONDS = 30.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class MediaUnavailable(Exception):
    """The media could not be fetched within the bounds; the message says why (no URL in it)."""


@dataclass(frozen=True)
class Media:
    """Downloaded bytes with the name and MIME type Zendesk's upload needs."""

    filename: str
    content_type: str
    content: bytes


async def download(
    http: httpx.AsyncClient,
    url: str,
    *,
    kind: str,
    title: str | None = None,
    max_bytes: int = MAX_MEDIA_BYTES,
    time_limit: float = MEDIA_TIMEOUT_SECONDS,
) -> Media:
    """Stream ``url`` into memory, aborting past ``max_bytes`` or ``time_limit`` seconds.

    Raises:
        MediaUnavailable: non-2xx status, network error, too large, or too slow.
    """
    try:
        async with asyncio.timeout(time_limit):
            content, header_type = await _fetch(http, url, max_bytes)
    except TimeoutError:
        raise MediaUnavailable(f"download took longer than {time_limit:g}s") from None
    except httpx.HTTPError as exc:
        raise MediaUnavailable(f"download failed ({type(exc).__name__})") from None
    name = filename_for(url, title, header_type, kind)
    content_type = header_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Media(filename=name, content_type=content_type, content=content)


async def _fetch(http: httpx.AsyncClient, url: str, max_bytes: int) -> tuple[bytes, str | None]:
    async with http.stream("GET", url, follow_redirects=True) as response:
        if response.status_code >= 400:
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
    """A safe file name with an extension Zendesk can show: from the URL path, else the title or kind."""
    base = posixpath.basename(unquote(urlsplit(url).path))
    stem, ext = posixpath.splitext(base)
    if not ext and content_type:
        ext = mimetypes.guess_extension(content_type) or ""
    safe_stem = _UNSAFE_NAME.sub("_", stem or title or kind).strip("._") or kind
    return f"{safe_stem[:100]}{ext[:10]}"
