"""Fixtures for the Slack adapter tests: the fake workspace, a media host, ready adapters and the harness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from coordination import Coordinator
from external_adapters.slack.files_in import FileStore
from tests.adapter_kit import MEDIA, MEDIA_URL
from tests.contracts.slack import SLACK_TEST_URL, SlackMockRouter

from .fake_slack import FakeSlack
from .harness import Build, SlackHarness, make_builder


@pytest.fixture
def slack_api() -> Iterator[SlackMockRouter]:
    """A respx router for Slack's Web API and upload host; any request breaking the contract fails the test."""
    router = SlackMockRouter(assert_all_mocked=True, assert_all_called=False)
    with router:
        yield router
        violations = router.recheck_calls()
    if violations:
        pytest.fail("Slack contract violations:\n" + "\n".join(violations), pytrace=False)


@pytest.fixture
def fake_slack(slack_api: SlackMockRouter) -> FakeSlack:
    """A stateful Slack workspace behind the contract-checked router."""
    return FakeSlack().install(slack_api)


@pytest.fixture
def media_host(slack_api: SlackMockRouter) -> respx.MockRouter:
    """Serves :data:`MEDIA` under :data:`MEDIA_URL` (on the same router: one respx mock per test)."""
    for path, (content_type, content) in MEDIA.items():
        response = httpx.Response(200, content=content, headers={"content-type": content_type})
        slack_api.get(MEDIA_URL + path).mock(return_value=response)
    return slack_api


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FileStore]:
    """The store of agents' files re-served at signed URLs, in the test's folder."""
    opened = await FileStore.open(None, tmp_path)
    yield opened
    await opened.aclose()


@pytest.fixture
def build(http: httpx.AsyncClient, tmp_path: Path, coordinator: Coordinator) -> Build:
    """``build(**config_overrides) -> Built``: a Slack adapter on the fake workspace, never really sleeping."""
    return make_builder(http, tmp_path, coordinator)


@pytest.fixture
async def harness(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter, media_host: respx.MockRouter
) -> SlackHarness:
    """A registered adapter on the fake workspace, with media served."""
    built = build()
    await built.adapter.subscribe("https://bridge.example.com/webhooks/wh_01JTESTWEBHOOK")
    return SlackHarness(built.adapter, fake_slack, built, build, slack_api)


__all__ = ["SLACK_TEST_URL"]
