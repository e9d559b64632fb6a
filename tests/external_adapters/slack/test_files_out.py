"""Fetching end-user media for an upload: the address check, redirects, the size cap."""

from __future__ import annotations

import httpx
import pytest

from external_adapters.media_download import DownloadRules, MediaUnavailable, download, filename_for
from tests.adapter_kit import MEDIA_URL, fixed_dns
from tests.contracts.slack import SlackMockRouter

RULES = DownloadRules(max_bytes=100, time_limit=10, resolve=fixed_dns)


async def test_a_public_file_is_fetched_with_its_type(http: httpx.AsyncClient, media_host: SlackMockRouter) -> None:
    media = await download(http, f"{MEDIA_URL}/cat.png", kind="image", title=None, rules=RULES)
    assert (media.filename, media.content_type, media.content) == ("cat.png", "image/png", b"\x89PNG fake cat")


async def test_a_private_address_is_refused_also_after_a_redirect(
    http: httpx.AsyncClient, slack_api: SlackMockRouter
) -> None:
    slack_api.get(f"{MEDIA_URL}/moved").mock(
        return_value=httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})
    )
    with pytest.raises(MediaUnavailable, match="refused"):
        await download(http, "http://127.0.0.1/x.png", kind="image", title=None, rules=RULES)
    with pytest.raises(MediaUnavailable, match="refused"):
        await download(http, f"{MEDIA_URL}/moved", kind="image", title=None, rules=RULES)


async def test_a_file_over_the_cap_is_refused(http: httpx.AsyncClient, slack_api: SlackMockRouter) -> None:
    slack_api.get(f"{MEDIA_URL}/big.bin").mock(return_value=httpx.Response(200, content=b"x" * 101))
    with pytest.raises(MediaUnavailable, match="larger than 100 bytes"):
        await download(http, f"{MEDIA_URL}/big.bin", kind="file", title=None, rules=RULES)


def test_file_names_are_safe_and_keep_an_extension() -> None:
    assert filename_for("https://x.example.com/a%20b/we%20ird.pdf?v=1", None, None, "file") == "we_ird.pdf"
    assert filename_for("https://x.example.com/", "My cat", "image/png", "image") == "My_cat.png"
