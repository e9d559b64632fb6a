"""Fixtures for the Zendesk adapter tests: the fake account, a media host, and ready adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from coordination import Coordinator
from external_adapters import AdapterContext, AdapterEnvironment, WebhookRequest
from external_adapters.zendesk import ZendeskAdapter, ZendeskRuntime
from external_adapters.zendesk.webhooks import SIGNATURE_HEADER
from tests.adapter_kit import INSTALLATION, MEDIA, MEDIA_URL, MemoryState, RecordedSleeps, fixed_dns
from tests.contracts.lost_answers import LostAnswers, lose_answers
from tests.contracts.zendesk import ZD_TEST_URL, ZendeskMockRouter

from .fake_zendesk import FakeZendesk

WEBHOOK_URL = "https://bridge.example.com/webhooks/wh_01JTESTWEBHOOK"
CONFIG: dict[str, Any] = {"subdomain": "acme", "email": "bot-admin@acme.test", "apiToken": "zd-secret-token-123"}


@pytest.fixture
def fake_zendesk(zendesk_api: ZendeskMockRouter) -> FakeZendesk:
    """A stateful Zendesk account behind the contract-checked router."""
    return FakeZendesk().install(zendesk_api)


@pytest.fixture
def media_host() -> Iterator[respx.MockRouter]:
    """Serves :data:`MEDIA` under :data:`MEDIA_URL`."""
    router = respx.MockRouter(base_url=MEDIA_URL, assert_all_mocked=True, assert_all_called=False)
    for path, (content_type, content) in MEDIA.items():
        router.get(path).mock(return_value=httpx.Response(200, content=content, headers={"content-type": content_type}))
    with router:
        yield router


@dataclass
class Built:
    """An adapter with its collaborators, for tests that need to look inside."""

    adapter: ZendeskAdapter
    state: MemoryState
    runtime: ZendeskRuntime
    sleeps: RecordedSleeps = field(default_factory=RecordedSleeps)


@pytest.fixture
def build(http: httpx.AsyncClient, tmp_path: Path, coordinator: Coordinator) -> Any:
    """``build(**config_overrides) -> Built``: a Zendesk adapter on the fake account, never really sleeping.

    Each call is a new process's adapter when given a new ``runtime`` (a restart), another worker's when given
    another ``coordinator`` on the same backend; by default every adapter shares the test's embedded coordinator.
    """

    def make(
        state: MemoryState | None = None,
        runtime: ZendeskRuntime | None = None,
        allow_vendor_base_urls: bool = False,
        coordinator: Coordinator = coordinator,
        **overrides: Any,
    ) -> Built:
        sleeps = RecordedSleeps()
        runtime = runtime or ZendeskRuntime(sleep=sleeps, resolve=fixed_dns)
        state = state or MemoryState()
        env = AdapterEnvironment(
            http=http, data_dir=tmp_path, coordinator=coordinator, allow_vendor_base_urls=allow_vendor_base_urls
        )
        context = AdapterContext(installation=INSTALLATION, state=state, env=env, backend=runtime)
        adapter = ZendeskAdapter(ZendeskAdapter.parse_config({**CONFIG, **overrides}), context)
        return Built(adapter, state, runtime, sleeps)

    return make


@dataclass
class ZendeskHarness:
    """The contract suite's helpdesk stand-in (``external_adapters.contract``: ``AdapterHarness``, and for the
    delivery tests ``DeliveryHarness``: a restart, a dropped answer, what a ticket holds)."""

    adapter: ZendeskAdapter
    zendesk: FakeZendesk
    built: Built
    rebuild: Callable[[Built], Built]
    router: ZendeskMockRouter
    lost: LostAnswers | None = None
    webhook_url: str = WEBHOOK_URL
    media_base_url: str = MEDIA_URL
    bad_config: tuple[dict[str, Any], str] = ({**CONFIG, "closeStatus": "deleted"}, "closeStatus")
    bad_session_options: tuple[dict[str, Any], str] = ({"priority": "critical"}, "priority")

    async def agent_reply(self, external_session_id: str, text: str) -> WebhookRequest:
        return _only(self.zendesk.agent_comment(int(external_session_id), f"<p>{text}</p>"))

    async def assign(self, external_session_id: str) -> WebhookRequest:
        return _only(self.zendesk.assign(int(external_session_id)))

    async def close(self, external_session_id: str) -> WebhookRequest:
        return _only(self.zendesk.set_status(int(external_session_id), "solved"))

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        headers = dict(request.headers)
        headers[SIGNATURE_HEADER] = "AAAA" + headers[SIGNATURE_HEADER][4:]
        return request.model_copy(update={"headers": headers})

    async def restart(self) -> None:
        """A new process: a new runtime (outbox, clocks) and adapter; the same account, state and coordinator."""
        self.built = self.rebuild(self.built)
        self.adapter = self.built.adapter

    def drop_next_answer(self) -> None:
        """Zendesk stores the next comment update, and its answer is lost (a read timeout)."""
        if self.lost is None:
            self.lost = lose_answers(self.router)
        self.lost.lose("PUT", r"^/api/v2/tickets/\d+(\.json)?$")

    async def delivered(self, external_session_id: str) -> list[str]:
        """The bodies of the ticket's comments, oldest first (the opening one included)."""
        return [str(comment["body"]) for comment in self.zendesk.tickets[int(external_session_id)].comments]


def _only(requests: list[WebhookRequest]) -> WebhookRequest:
    assert len(requests) == 1, f"expected one webhook delivery, the triggers sent {len(requests)}"
    return requests[0]


@pytest.fixture
async def harness(
    build: Any, fake_zendesk: FakeZendesk, zendesk_api: ZendeskMockRouter, media_host: respx.MockRouter
) -> ZendeskHarness:
    """A registered adapter on the fake account, with media served."""
    built: Built = build()
    await built.adapter.subscribe(WEBHOOK_URL)

    def rebuild(old: Built) -> Built:
        restarted: Built = build(state=old.state)
        return restarted

    return ZendeskHarness(built.adapter, fake_zendesk, built, rebuild, zendesk_api)


__all__ = ["CONFIG", "INSTALLATION", "MEDIA_URL", "WEBHOOK_URL", "ZD_TEST_URL"]
