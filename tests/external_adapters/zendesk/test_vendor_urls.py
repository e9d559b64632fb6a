"""Vendor URLs are no SSRF door: ``baseUrl`` and media downloads stay off the bridge's own network by default."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from coordination import Coordinator
from external_adapters import AdapterEnvironment
from external_adapters.errors import AdapterConfigError
from external_adapters.media_download import MAX_REDIRECTS, DownloadRules, MediaUnavailable, download
from external_adapters.url_guard import is_public_address, resolve_host
from external_adapters.zendesk import ZendeskAdapter, ZendeskRuntime
from tests.adapter_kit import PUBLIC_ADDRESS, RecordedSleeps, fixed_dns

from .conftest import CONFIG, MEDIA_URL, Built
from .fake_zendesk import FakeZendesk
from .test_outbound import _out, _session

INSIDE = [
    "http://127.0.0.1/x.png",
    "http://localhost/x.png",
    "http://[::1]/x.png",
    "http://[::ffff:127.0.0.1]/x.png",
    "http://[::ffff:a00:5]/x.png",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/x.png",
    "http://10.0.0.5/x.png",
    "http://192.168.1.1/x.png",
    "http://172.16.0.1/x.png",
    "http://2130706433/x.png",
    "http://0.0.0.0/x.png",
    "http://224.0.0.1/x.png",
    "http://240.0.0.1/x.png",
    "http://[64:ff9b::a9fe:a9fe]/x.png",
    "http://[2002:7f00:1::]/x.png",
]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def anywhere() -> Iterator[respx.MockRouter]:
    """Answers a small PNG for any GET, and records what was asked."""
    with respx.mock(assert_all_called=False) as router:
        router.get().mock(return_value=httpx.Response(200, content=b"png", headers={"content-type": "image/png"}))
        yield router


def _rules(**changes: Any) -> DownloadRules:
    return DownloadRules(**{"resolve": fixed_dns, **changes})


@pytest.mark.parametrize("url", INSIDE)
async def test_media_inside_the_network_is_refused_before_any_request(
    http: httpx.AsyncClient, anywhere: respx.MockRouter, url: str
) -> None:
    with pytest.raises(MediaUnavailable, match="refused"):
        await download(http, url, kind="image", rules=_rules())
    assert anywhere.calls.call_count == 0


async def test_a_name_with_one_private_address_among_public_ones_is_refused(
    http: httpx.AsyncClient, anywhere: respx.MockRouter
) -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC_ADDRESS, "10.1.2.3"]

    with pytest.raises(MediaUnavailable, match=r"non-public address \(10\.1\.2\.3\)"):
        await download(http, f"{MEDIA_URL}/cat.png", kind="image", rules=_rules(resolve=mixed))
    assert anywhere.calls.call_count == 0


async def test_other_schemes_and_unresolvable_hosts_are_refused(http: httpx.AsyncClient) -> None:
    async def nothing(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(MediaUnavailable, match="refused"):
        await download(http, "file:///etc/passwd", kind="file", rules=_rules())
    with pytest.raises(MediaUnavailable, match="does not resolve"):
        await download(http, f"{MEDIA_URL}/cat.png", kind="image", rules=_rules(resolve=nothing))


async def test_a_public_url_is_fetched(http: httpx.AsyncClient, anywhere: respx.MockRouter) -> None:
    media = await download(http, f"{MEDIA_URL}/cat.png", kind="image", rules=_rules())
    assert media.content == b"png" and anywhere.calls.call_count == 1


async def test_the_process_setting_lets_media_reach_private_addresses(
    http: httpx.AsyncClient, anywhere: respx.MockRouter
) -> None:
    media = await download(http, "http://127.0.0.1:9000/cat.png", kind="image", rules=_rules(allow_private=True))
    assert media.content == b"png"


async def test_a_redirect_into_the_network_is_refused_before_it_is_followed(http: httpx.AsyncClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{MEDIA_URL}/cat.png").mock(
            return_value=httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})
        )
        metadata = router.get("http://169.254.169.254/latest/meta-data").mock(return_value=httpx.Response(200))
        with pytest.raises(MediaUnavailable, match="refused"):
            await download(http, f"{MEDIA_URL}/cat.png", kind="image", rules=_rules())
    assert metadata.call_count == 0


def _chain(router: respx.MockRouter, hops: int) -> None:
    for hop in range(hops):
        router.get(f"{MEDIA_URL}/hop{hop}").mock(
            return_value=httpx.Response(307, headers={"location": f"{MEDIA_URL}/hop{hop + 1}"})
        )
    router.get(f"{MEDIA_URL}/hop{hops}").mock(return_value=httpx.Response(200, content=b"end"))


async def test_at_most_three_redirects_are_followed(http: httpx.AsyncClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        _chain(router, MAX_REDIRECTS)
        assert (await download(http, f"{MEDIA_URL}/hop0", kind="file", rules=_rules())).content == b"end"
    with respx.mock(assert_all_called=False) as router:
        _chain(router, MAX_REDIRECTS + 1)
        with pytest.raises(MediaUnavailable, match="more than 3 redirects"):
            await download(http, f"{MEDIA_URL}/hop0", kind="file", rules=_rules())
        assert router.calls.call_count == MAX_REDIRECTS + 1


async def test_concurrent_downloads_are_capped(http: httpx.AsyncClient) -> None:
    release, running, most = asyncio.Event(), [0], [0]

    async def slow(request: httpx.Request) -> httpx.Response:
        running[0] += 1
        most[0] = max(most[0], running[0])
        await release.wait()
        running[0] -= 1
        return httpx.Response(200, content=b"x")

    rules = _rules(slots=asyncio.Semaphore(2))
    with respx.mock() as router:
        router.get(f"{MEDIA_URL}/slow").mock(side_effect=slow)
        tasks = [asyncio.create_task(download(http, f"{MEDIA_URL}/slow", kind="file", rules=rules)) for _ in range(5)]
        for _ in range(200):  # let every task run as far as it can
            await asyncio.sleep(0)
        assert running[0] == 2
        release.set()
        fetched = await asyncio.gather(*tasks)
    assert most[0] == 2 and [media.content for media in fetched] == [b"x"] * 5


@pytest.mark.parametrize("text", ["8.8.8.8", "2606:4700:4700::1111", PUBLIC_ADDRESS])
def test_public_addresses_pass(text: str) -> None:
    assert is_public_address(text)


async def test_ip_literals_resolve_without_dns() -> None:
    assert await resolve_host("2130706433", 80) == ["127.0.0.1"]


async def test_the_adapter_sends_media_inside_the_network_as_a_link(
    build: Any, fake_zendesk: FakeZendesk, media_host: respx.MockRouter
) -> None:
    built: Built = build()
    ticket_id, jane = await _session(built)
    await built.adapter.send_message(_out(ticket_id, jane, "image", {"imageUrl": "http://169.254.169.254/x.png"}))
    last = fake_zendesk.tickets[int(ticket_id)].comments[-1]
    assert last["body"] == "[Image] http://169.254.169.254/x.png" and last["attachments"] == []


async def _private(host: str, port: int) -> list[str]:
    return ["10.0.0.7"]


@pytest.mark.parametrize(("allowed", "attachments"), [(False, 0), (True, 1)])
async def test_the_process_setting_decides_whether_media_may_come_from_inside(
    build: Any, fake_zendesk: FakeZendesk, media_host: respx.MockRouter, allowed: bool, attachments: int
) -> None:
    runtime = ZendeskRuntime(sleep=RecordedSleeps(), resolve=_private)
    built: Built = build(runtime=runtime, allow_vendor_base_urls=allowed)
    ticket_id, jane = await _session(built)
    await built.adapter.send_message(_out(ticket_id, jane, "image", {"imageUrl": f"{MEDIA_URL}/cat.png"}))
    assert len(fake_zendesk.tickets[int(ticket_id)].comments[-1]["attachments"]) == attachments


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8443", "https://evil.example.com", "https://other.zendesk.com"])
def test_a_base_url_other_than_the_account_needs_the_process_setting(build: Any, base_url: str) -> None:
    with pytest.raises(AdapterConfigError) as refused:
        build(baseUrl=base_url)
    assert refused.value.field == "baseUrl" and "HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS=true" in str(refused.value)
    assert build(allow_vendor_base_urls=True, baseUrl=base_url).adapter.config.api_base_url == base_url


def test_the_account_url_as_base_url_needs_no_setting(build: Any) -> None:
    built: Built = build(baseUrl=f"https://{CONFIG['subdomain']}.zendesk.com/")
    assert built.adapter.config.api_base_url == "https://acme.zendesk.com"


async def test_a_name_that_rebinds_to_loopback_after_the_check_gets_no_connection(http: httpx.AsyncClient) -> None:
    accepted: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.close()

    answers = [[PUBLIC_ADDRESS]]  # the first lookup (the check before the request) is answered a public address

    async def rebinding(host: str, port: int) -> list[str]:
        return answers.pop() if answers else ["127.0.0.1"]

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(MediaUnavailable, match=r"refused: .*non-public address \(127\.0\.0\.1\)"):
            await download(http, f"http://localhost:{port}/x.png", kind="image", rules=_rules(resolve=rebinding))
    assert accepted == [] and answers == []


def _answering(content: bytes) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=content)))


@pytest.mark.parametrize(("allowed", "used"), [(False, b"guarded"), (True, b"shared")])
async def test_the_guarded_client_fetches_unless_private_addresses_are_allowed(allowed: bool, used: bytes) -> None:
    async with _answering(b"shared") as shared, _answering(b"guarded") as guarded:
        rules = _rules(allow_private=allowed, guarded_http=guarded)
        assert (await download(shared, f"{MEDIA_URL}/cat.png", kind="image", rules=rules)).content == used


async def test_the_adapter_lifespan_holds_one_guarded_client_and_closes_it(
    http: httpx.AsyncClient, tmp_path: Path, coordinator: Coordinator
) -> None:
    env = AdapterEnvironment(http=http, data_dir=tmp_path, coordinator=coordinator)
    async with ZendeskAdapter.lifespan(env) as runtime:
        assert isinstance(runtime, ZendeskRuntime) and runtime.media_http is not None
        assert runtime.download_rules(allow_private=False).guarded_http is runtime.media_http
    assert runtime.media_http.is_closed and not http.is_closed
