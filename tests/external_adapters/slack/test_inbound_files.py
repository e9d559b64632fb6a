"""Agents' files: downloaded with the bot token, kept, and given to the end user at a signed URL with no token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from bp_modules.hitl import HitlAudio, HitlFile, HitlImage, HitlText, HitlVideo
from coordination import Coordinator
from external_adapters.events import AgentMessage
from external_adapters.slack.files_in import FileStore, file_key
from tests.contracts.slack import SlackMockRouter

from .inbound_kit import ALICE, BOT_TOKEN, NOW, PUBLIC_URL, Kit, delivery, event_body, mock_users, reply

FILES_HOST = "https://files.slack.com"
# Slack's file URLs can carry a token of their own (public links, some clients): it must never reach the end user.
TOKEN_IN_URL = "t=xoxe-1-secretfiletoken"


def shared(file_id: str, name: str, mimetype: str, size: int = 10, **extra: Any) -> dict[str, Any]:
    url = f"{FILES_HOST}/files-pri/T0TEAM-{file_id}/download/{name}?{TOKEN_IN_URL}"
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "size": size,
        "url_private_download": url,
        **extra,
    }


@pytest.fixture
def slack(slack_api: SlackMockRouter) -> SlackMockRouter:
    """Slack's Web API, every request and mocked answer checked against its contract (tests/contracts/slack)."""
    mock_users(slack_api, {ALICE: "Alice Martin"})
    return slack_api


@pytest.fixture
async def kit(coordinator: Coordinator, slack: respx.MockRouter, store: FileStore) -> AsyncIterator[Kit]:
    async with httpx.AsyncClient() as http:
        made = Kit(coordinator, http, files=store)
        await made.open_session()
        yield made


def _download(router: respx.MockRouter, file_id: str, content: bytes, content_type: str) -> respx.Route:
    return router.get(url__startswith=f"{FILES_HOST}/files-pri/T0TEAM-{file_id}/").mock(
        return_value=httpx.Response(200, content=content, headers={"Content-Type": content_type})
    )


async def _said(kit: Kit, event: dict[str, Any]) -> list[AgentMessage]:
    result = await kit.adapter().parse_webhook(delivery(event_body(event, "EvF")))
    return [event for event in result.events if isinstance(event, AgentMessage)]


async def test_each_kind_of_file_becomes_its_hitl_message_at_a_signed_url(
    kit: Kit, slack: respx.MockRouter, store: FileStore
) -> None:
    kinds = [
        ("F1", "cat.png", "image/png"),
        ("F2", "song.mp3", "audio/mpeg"),
        ("F3", "clip.mp4", "video/mp4"),
        ("F4", "doc.pdf", "application/pdf"),
    ]
    routes = [_download(slack, fid, f"bytes of {name}".encode(), mime) for fid, name, mime in kinds]
    files = [shared(fid, name, mime) for fid, name, mime in kinds]
    said = await _said(kit, reply("here you go", subtype="file_share", files=files))
    assert [type(event.message) for event in said] == [HitlText, HitlImage, HitlAudio, HitlVideo, HitlFile]
    assert len({event.dedupe_key for event in said}) == 5 and len({event.external_message_id for event in said}) == 5
    for route in routes:
        assert route.calls.last.request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    image = said[1].message
    assert isinstance(image, HitlImage) and image.title == "cat.png"
    parts = urlsplit(image.image_url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    assert parts.path == f"/slack/files/{file_key('intver_01JSLACK', 'F1')}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert store.check(parts.path.rsplit("/", 1)[1], query["expires"], query["sig"], NOW)
    stored = await store.get(parts.path.rsplit("/", 1)[1])
    assert stored is not None and stored.content == b"bytes of cat.png" and stored.content_type == "image/png"


async def test_no_token_and_no_slack_url_reach_the_end_user(kit: Kit, slack: respx.MockRouter) -> None:
    _download(slack, "F9", b"x", "application/pdf")
    said = await _said(kit, reply("", subtype="file_share", files=[shared("F9", "secret.pdf", "application/pdf")]))
    (event,) = said
    dumped = event.message.model_dump_json(by_alias=True)
    for leak in (BOT_TOKEN, "xoxe", "files.slack.com", "files-pri", "F9"):
        assert leak not in dumped


async def test_a_file_over_the_cap_is_a_notice_and_is_not_downloaded(kit: Kit, slack: respx.MockRouter) -> None:
    route = _download(slack, "F5", b"x", "video/mp4")
    big = shared("F5", "huge.mp4", "video/mp4", size=21 * 1024 * 1024)
    (event,) = await _said(kit, reply("", subtype="file_share", files=[big]))
    assert isinstance(event.message, HitlText) and "huge.mp4" in event.message.text and "larger" in event.message.text
    assert not route.called


async def test_a_file_outside_slacks_hosts_is_a_notice_and_gets_no_token(kit: Kit, slack: respx.MockRouter) -> None:
    elsewhere = slack.get(url__startswith="https://evil.example.com/").mock(return_value=httpx.Response(200))
    odd = shared("F6", "a.png", "image/png", url_private_download="https://evil.example.com/a.png")
    (event,) = await _said(kit, reply("", subtype="file_share", files=[odd]))
    assert isinstance(event.message, HitlText) and "could not be forwarded" in event.message.text
    assert not elsewhere.called


async def test_without_a_file_store_a_file_is_a_notice(coordinator: Coordinator, slack: respx.MockRouter) -> None:
    async with httpx.AsyncClient() as http:
        kit = Kit(coordinator, http, files=None)
        await kit.open_session()
        (event,) = await _said(kit, reply("", subtype="file_share", files=[shared("F7", "a.png", "image/png")]))
    assert isinstance(event.message, HitlText) and "a.png" in event.message.text


async def test_a_parse_repeated_keeps_one_copy_under_the_same_key(
    kit: Kit, slack: respx.MockRouter, store: FileStore
) -> None:
    _download(slack, "F8", b"first", "image/png")
    first = await _said(kit, reply("", subtype="file_share", files=[shared("F8", "a.png", "image/png")]))
    _download(slack, "F8", b"second", "image/png")
    again = await _said(kit, reply("", subtype="file_share", files=[shared("F8", "a.png", "image/png")]))
    assert first[0].dedupe_key == again[0].dedupe_key
    stored = await store.get(file_key("intver_01JSLACK", "F8"))
    assert stored is not None and stored.content == b"first"


async def test_a_share_without_its_content_is_a_notice(kit: Kit, slack: respx.MockRouter) -> None:
    hidden = {"id": "F10", "name": "big.zip", "file_access": "check_file_info"}
    (event,) = await _said(kit, reply("", subtype="file_share", files=[hidden]))
    assert (
        isinstance(event.message, HitlText)
        and "big.zip" in event.message.text
        and "did not deliver" in event.message.text
    )
