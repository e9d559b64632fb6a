"""The behaviour every adapter must show, as a reusable pytest suite.

Subclass :class:`AdapterContract` in your adapter's tests and provide an async fixture named
``harness`` that returns an object satisfying :class:`AdapterHarness`::

    class TestMyDeskContract(AdapterContract):
        @pytest.fixture
        async def harness(self) -> AdapterHarness:
            return await build_my_harness()

The harness stands in for the helpdesk: it gives a ready adapter and produces the webhooks the
helpdesk would send when an agent acts; for the delivery tests it also restarts the adapter on the same store,
drops an answer, and lists what a session holds (:class:`DeliveryHarness`). This module needs pytest, so import
it from tests only.
"""

from __future__ import annotations

from typing import Any, Protocol

import pytest

from bp_modules.hitl import HitlMessage, parse_hitl_payload

from .base import AuthorDisplay, HelpdeskAdapter, OutboundMessage, WebhookRequest
from .contract_delivery import DeliveryContract, DeliveryHarness
from .errors import AdapterConfigError, InvalidSignatureError, SessionOptionsError
from .events import AgentAssigned, AgentMessage, InboundEvent, SessionClosed
from .registry import get_adapter_class

__all__ = ["AdapterContract", "AdapterHarness", "DeliveryHarness"]


class AdapterHarness(Protocol):
    """A helpdesk stand-in: a ready adapter plus the webhooks its agents would cause."""

    adapter: HelpdeskAdapter[Any, Any]
    webhook_url: str
    media_base_url: str
    """Media under this URL (``/cat.png``, ``/song.mp3``, ``/clip.mp4``, ``/doc.pdf``) must be served."""
    bad_config: tuple[dict[str, Any], str]
    """An invalid configuration, and the field its error must name."""
    bad_session_options: tuple[dict[str, Any], str]
    """An invalid ``hitlSession`` card, and the field its error must name."""

    async def agent_reply(self, external_session_id: str, text: str) -> WebhookRequest:
        """The signed webhook sent when an agent replies ``text`` in the session."""
        ...

    async def assign(self, external_session_id: str) -> WebhookRequest:
        """The signed webhook sent when an agent takes the session."""
        ...

    async def close(self, external_session_id: str) -> WebhookRequest:
        """The signed webhook sent when the session is solved or closed by an agent."""
        ...

    def tamper(self, request: WebhookRequest) -> WebhookRequest:
        """The same request with its signature broken."""
        ...


def _messages(media: str) -> list[HitlMessage]:
    raw: list[tuple[str, dict[str, Any]]] = [
        ("text", {"text": "Hello from the contract suite"}),
        ("image", {"imageUrl": f"{media}/cat.png", "title": "A cat"}),
        ("audio", {"audioUrl": f"{media}/song.mp3"}),
        ("video", {"videoUrl": f"{media}/clip.mp4", "title": "Clip"}),
        ("file", {"fileUrl": f"{media}/doc.pdf", "title": "Invoice"}),
        (
            "bloc",
            {
                "items": [
                    {"type": "text", "payload": {"text": "see"}},
                    {"type": "markdown", "payload": {"markdown": "**this**"}},
                ]
            },
        ),
    ]
    return [parse_hitl_payload(kind, payload) for kind, payload in raw]


class AdapterContract(DeliveryContract):
    """Behaviour every :class:`HelpdeskAdapter` must show. Subclass it and provide ``harness``.

    The delivery tests (:class:`~external_adapters.contract_delivery.DeliveryContract`) need the harness to
    satisfy :class:`~external_adapters.contract_delivery.DeliveryHarness` as well.
    """

    async def _events(self, harness: AdapterHarness, request: WebhookRequest) -> list[InboundEvent]:
        await harness.adapter.verify_webhook(request)
        return (await harness.adapter.parse_webhook(request)).events

    def test_declares_its_identity(self, harness: AdapterHarness) -> None:
        cls = type(harness.adapter)
        assert cls.name and cls.title and cls.entity_name
        assert get_adapter_class(cls.name) is cls

    def test_bad_config_names_the_field(self, harness: AdapterHarness) -> None:
        raw, field = harness.bad_config
        with pytest.raises(AdapterConfigError) as caught:
            type(harness.adapter).parse_config(raw)
        assert field in caught.value.field

    def test_bad_session_options_name_the_field(self, harness: AdapterHarness) -> None:
        raw, field = harness.bad_session_options
        with pytest.raises(SessionOptionsError) as caught:
            type(harness.adapter).parse_session_options(raw)
        assert field in caught.value.field

    def test_unknown_session_options_are_dropped(self, harness: AdapterHarness) -> None:
        # hitlSession is action input: the SDK's zod parsing strips unknown keys, so must the Studio card model.
        cls = type(harness.adapter)
        assert cls.parse_session_options({"notAnOption": 1, "x-webchat": {"a": None}}) == cls.parse_session_options({})

    async def test_subscribe_and_unsubscribe_are_repeatable(self, harness: AdapterHarness) -> None:
        await harness.adapter.subscribe(harness.webhook_url)
        await harness.adapter.subscribe(harness.webhook_url)
        await harness.adapter.unsubscribe(harness.webhook_url)
        await harness.adapter.unsubscribe(harness.webhook_url)
        await harness.adapter.subscribe(harness.webhook_url)

    async def test_create_user_is_idempotent(self, harness: AdapterHarness) -> None:
        first = await self._user(harness, "same")
        assert first
        assert await self._user(harness, "same") == first
        assert await self._user(harness, "other") != first

    async def test_open_session_is_idempotent_per_key(self, harness: AdapterHarness) -> None:
        first = await self._session(harness, "key-a")
        assert await self._session(harness, "key-a") == first
        assert await self._session(harness, "key-b") != first

    async def test_a_closed_session_is_found_by_its_key_and_a_new_key_opens_a_new_one(
        self, harness: AdapterHarness
    ) -> None:
        first = await self._session(harness, "key-done")
        await harness.adapter.close_session(first)
        assert await self._session(harness, "key-done") == first  # resuming a key never opens a second session
        assert await self._session(harness, "key-next") != first  # the integration's next handoff

    async def test_sends_every_hitl_message_type(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        author = await self._user(harness)
        for index, message in enumerate(_messages(harness.media_base_url)):
            request = OutboundMessage(
                external_session_id=session_id,
                author_external_id=author,
                author=AuthorDisplay(name="Jane Doe", picture_url=f"{harness.media_base_url}/cat.png"),
                message=message,
                bp_message_id=f"msg_contract_{index}".ljust(28, "0"),
            )
            assert await harness.adapter.send_message(request)

    async def test_agent_reply_becomes_an_agent_message(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        events = await self._events(harness, await harness.agent_reply(session_id, "Hi, I am Bob"))
        replies = [e for e in events if isinstance(e, AgentMessage)]
        assert len(replies) == 1
        assert replies[0].external_session_id == session_id
        assert "Hi, I am Bob" in replies[0].message.model_dump_json()
        assert replies[0].external_message_id and replies[0].agent.external_user_id

    async def test_redelivery_carries_the_same_keys(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        request = await harness.agent_reply(session_id, "Once only")
        first = await self._events(harness, request)
        again = await self._events(harness, request)
        assert [e.dedupe_key for e in first] == [e.dedupe_key for e in again]
        assert all(e.dedupe_key for e in first)

    async def test_assignment_becomes_agent_assigned(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        events = await self._events(harness, await harness.assign(session_id))
        assigned = [e for e in events if isinstance(e, AgentAssigned)]
        assert len(assigned) == 1
        assert assigned[0].external_session_id == session_id and assigned[0].agent.external_user_id
        assert assigned[0].dedupe_key  # the integration journals the Botpress event under it

    async def test_close_becomes_session_closed(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        events = await self._events(harness, await harness.close(session_id))
        closed = [e for e in events if isinstance(e, SessionClosed)]
        assert [e.external_session_id for e in closed] == [session_id] and closed[0].dedupe_key

    async def test_tampered_webhook_is_rejected(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        request = harness.tamper(await harness.agent_reply(session_id, "forged"))
        with pytest.raises(InvalidSignatureError):
            await harness.adapter.verify_webhook(request)

    async def test_signatures_are_checked_on_the_exact_bytes_and_one_changed_byte_is_refused(
        self, harness: AdapterHarness
    ) -> None:
        session_id = await self._session(harness)
        request = await harness.agent_reply(session_id, "Grüße, ça marche ✓ 3 €")
        await harness.adapter.verify_webhook(request)  # what the vendor signed, non-ASCII text included
        with pytest.raises(InvalidSignatureError):
            await harness.adapter.verify_webhook(one_byte_changed(request))

    async def test_close_session_is_idempotent(self, harness: AdapterHarness) -> None:
        session_id = await self._session(harness)
        await harness.adapter.close_session(session_id)
        await harness.adapter.close_session(session_id)


def one_byte_changed(request: WebhookRequest) -> WebhookRequest:
    """The request with one ASCII letter or digit of its body changed (one byte of ``body_bytes``), nearest the
    middle, its signature headers kept: what an attacker, or a relay that re-encodes the body, would hand on."""
    body = request.body or ""
    middle = len(body) // 2
    positions = sorted(
        (i for i, char in enumerate(body) if char.isascii() and char.isalnum()), key=lambda i: abs(i - middle)
    )
    assert positions, "the webhook body has no ASCII letter or digit to change"
    at = positions[0]
    changed = "1" if body[at] == "0" else "0" if body[at].isdigit() else "x" if body[at] != "x" else "y"
    return request.model_copy(update={"body": body[:at] + changed + body[at + 1 :]})
