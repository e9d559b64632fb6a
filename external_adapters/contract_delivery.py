"""The contract suite's delivery tests: each message lands once through lost answers and restarts.

The integration journals a message's intent before :meth:`~external_adapters.base.HelpdeskAdapter.send_message`;
when that attempt's outcome is unknown (its answer was lost, or the process died before the journal recorded the
id), the next attempt asks :meth:`~external_adapters.base.HelpdeskAdapter.find_message` and sends again only on
``None``. These tests drive an adapter exactly that way, through a transport that drops answers and through
simulated restarts (a fresh adapter and process state on the same durable store), and count what the helpdesk
holds, by unique tokens: 0 lost, 0 duplicated. :class:`~external_adapters.contract.AdapterContract` includes them.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import pytest
from pydantic import JsonValue

from bp_modules.hitl import HitlText

from .base import EndUser, ExternalUserRequest, HelpdeskAdapter, OpenSessionRequest, OutboundMessage, Transcript
from .errors import ExternalRequestError, ExternalServiceError

CONTRACT_USER = "user_contract_1".ljust(28, "0")
CONTRACT_CONVERSATION = "conv_contract".ljust(28, "0")


class _HasAdapter(Protocol):
    adapter: HelpdeskAdapter[Any, Any]


class DeliveryHarness(Protocol):
    """What the delivery tests need of the harness, beyond :class:`~external_adapters.contract.AdapterHarness`."""

    adapter: HelpdeskAdapter[Any, Any]

    async def restart(self) -> None:
        """Stand for a kill -9 and a new process: afterwards ``adapter`` is a new adapter with none of the old
        one's process memory (caches, outboxes, queues, connections), on the same durable store (the helpdesk's
        data, the database file, the integration's states)."""
        ...

    def drop_next_answer(self) -> None:
        """The next message the adapter sends reaches the helpdesk and is stored, but the answer to that write is
        lost, as after a read timeout (for an adapter that checks a lost answer itself, its check may succeed)."""
        ...

    async def delivered(self, external_session_id: str) -> list[str]:
        """The text of every end-user message the session holds, in order, repeats included."""
        ...


async def settle_and_send(adapter: HelpdeskAdapter[Any, Any], request: OutboundMessage) -> str:
    """What the integration does for a message whose earlier attempt has an unknown outcome."""
    found = await adapter.find_message(request)
    return found if found is not None else await adapter.send_message(request)


async def try_send(adapter: HelpdeskAdapter[Any, Any], request: OutboundMessage) -> str | None:
    """One attempt; ``None`` when its outcome is unknown (a failure other than a definite refusal)."""
    try:
        return await adapter.send_message(request)
    except ExternalRequestError:
        raise
    except ExternalServiceError:
        return None


def token_message(session_id: str, token: str, bp_message_id: str | None = None) -> OutboundMessage:
    """A text message carrying ``[token]``, from no author (a system message: every adapter takes one)."""
    return OutboundMessage(
        external_session_id=session_id,
        author_external_id=None,
        message=HitlText(text=f"Delivery check [{token}]"),
        bp_message_id=bp_message_id or f"msg_{token}".ljust(28, "0")[:28],
    )


class DeliveryContract:
    """Delivery through lost answers and restarts; mixed into the contract suite."""

    async def _user(self, harness: _HasAdapter, suffix: str = "1") -> str:
        request = ExternalUserRequest(
            bp_user_id=f"user_contract_{suffix}".ljust(28, "0"), name="Jane Doe", email=f"jane{suffix}@example.com"
        )
        return await harness.adapter.create_user(request)

    async def _session(self, harness: _HasAdapter, key: str = "key-1") -> str:
        external_user_id = await self._user(harness)
        request = OpenSessionRequest[Any](
            end_user=EndUser(bp_user_id=CONTRACT_USER, external_user_id=external_user_id),
            title="Contract session",
            description="Opened by the contract suite",
            options=harness.adapter.parse_session_options({}),
            transcript=contract_transcript(),
            idempotency_key=key,
        )
        session_id = await harness.adapter.open_session(request)
        await harness.adapter.link_session(session_id, CONTRACT_CONVERSATION)
        return session_id

    @pytest.fixture
    def delivery(self, harness: Any) -> DeliveryHarness:
        """The suite's ``harness``, which these tests need to be a :class:`DeliveryHarness` too."""
        missing = [name for name in ("restart", "drop_next_answer", "delivered") if not hasattr(harness, name)]
        if missing:
            pytest.fail(f"the harness lacks {', '.join(missing)}: see DeliveryHarness and docs/adapters.md section 6")
        delivery: DeliveryHarness = harness
        return delivery

    async def _tokens(self, harness: DeliveryHarness, session_id: str, tokens: list[str]) -> dict[str, int]:
        texts = await harness.delivered(session_id)
        return {token: sum(f"[{token}]" in text for text in texts) for token in tokens}

    async def test_find_message_finds_what_was_sent_also_after_a_restart(self, delivery: DeliveryHarness) -> None:
        session_id = await self._session(delivery)
        request = token_message(session_id, _token())
        sent = await delivery.adapter.send_message(request)
        assert await delivery.adapter.find_message(request) == sent
        await delivery.restart()
        assert await delivery.adapter.find_message(request) == sent

    async def test_find_message_finds_nothing_for_a_message_never_sent(self, delivery: DeliveryHarness) -> None:
        session_id = await self._session(delivery)
        await delivery.adapter.send_message(token_message(session_id, _token()))
        assert await delivery.adapter.find_message(token_message(session_id, _token())) is None
        await delivery.restart()
        assert await delivery.adapter.find_message(token_message(session_id, _token())) is None

    async def test_a_lost_answer_then_a_restart_leaves_one_message(self, delivery: DeliveryHarness) -> None:
        session_id = await self._session(delivery)
        token = _token()
        request = token_message(session_id, token)
        delivery.drop_next_answer()
        first = await try_send(delivery.adapter, request)
        await delivery.restart()
        settled = await settle_and_send(delivery.adapter, request)
        assert first is None or settled == first
        assert await self._tokens(delivery, session_id, [token]) == {token: 1}

    async def test_a_burst_through_lost_answers_and_restarts_loses_and_repeats_nothing(
        self, delivery: DeliveryHarness
    ) -> None:
        session_id = await self._session(delivery)
        tokens = [_token() for _ in range(12)]
        unknown: list[OutboundMessage] = []
        for index, token in enumerate(tokens):
            request = token_message(session_id, token)
            if index % 4 == 3:  # the process dies after the journal's intent, before the send
                unknown.append(request)
                await delivery.restart()
                continue
            if index % 3 == 0:
                delivery.drop_next_answer()
            if await try_send(delivery.adapter, request) is None or index % 4 == 1:
                unknown.append(request)  # no answer, or the process dies before the journal records it
            if index % 4 == 1:
                await delivery.restart()
        for request in unknown:  # the runtime's redeliveries
            await settle_and_send(delivery.adapter, request)
        assert await self._tokens(delivery, session_id, tokens) == dict.fromkeys(tokens, 1)

    async def test_per_session_data_survives_a_restart(self, delivery: DeliveryHarness) -> None:
        session_id = await self._session(delivery)
        sessions = delivery.adapter.context.sessions
        await sessions.update(session_id, lambda data: {**(data or {}), "contractCheck": "kept"})
        await delivery.restart()
        stored = await delivery.adapter.context.sessions.get(session_id)
        assert stored is not None and stored["contractCheck"] == "kept"  # what the adapter kept is untouched too
        await delivery.adapter.context.sessions.update(session_id, lambda data: _without(data, "contractCheck"))

    async def test_open_session_finds_its_session_after_a_restart(self, delivery: DeliveryHarness) -> None:
        first = await self._session(delivery, "key-restart")
        await delivery.restart()
        assert await self._session(delivery, "key-restart") == first
        assert await self._session(delivery, "key-after-restart") != first


def contract_transcript() -> Transcript:
    """The transcript every contract session opens with."""
    return Transcript(text="User: I need help", markdown="**User:** I need help", html="<p>User: I need help</p>")


def _without(data: dict[str, JsonValue] | None, key: str) -> dict[str, JsonValue] | None:
    rest = {k: v for k, v in (data or {}).items() if k != key}
    return rest or None


def _token() -> str:
    return f"tok-{uuid.uuid4().hex[:12]}"
