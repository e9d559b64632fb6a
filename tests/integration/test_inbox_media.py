"""An agent's attachment in the inbox reaches Botpress as a real image or file message on the hitl channel, through
the whole bridge (the contract-checked Botpress router), and its link serves the uploaded bytes."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from external_adapters.inbox import InboxService
from external_adapters.inbox.files import Upload
from external_adapters.inbox.models import Agent
from integration.app_keys import SERVICES
from tests.contracts.botpress import TEST_BOT_ID, BotpressMockRouter
from tests.factories import runtime_headers, webhook_body
from tests.fake_botpress import FakeBotpress

from .call_log import Bridge, CallLog
from .test_call_counts import INBOX_WEBHOOK_URL, hooks, inbox_bridge, signed_event, start_flow

__all__ = ["hooks", "inbox_bridge"]  # fixtures
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


async def test_attachments_become_botpress_image_and_file_messages(
    inbox_bridge: tuple[Bridge, InboxService], bp_api: BotpressMockRouter, fake_botpress: FakeBotpress
) -> None:
    bridge, service = inbox_bridge
    agent, (_, session_id) = await _claimed_session(bridge, service, bp_api)
    await bridge.webhook(await signed_event(service, session_id, "agent_assigned"))
    sent: list[dict[str, Any]] = []
    for upload in (Upload("shot.png", "image/png", PNG), Upload("notes.pdf", "application/pdf", b"%PDF-1.4")):
        message = await service.actions.attach(agent, session_id, upload, "http://bridge.test")
        await bridge.webhook(await signed_event(service, session_id, "agent_message"))
        sent.append(message.payload)
    media = [m for m in fake_botpress.messages.values() if m["type"] in ("image", "file")]
    assert [(m["type"], m["payload"]) for m in media] == [
        ("image", {"imageUrl": sent[0]["imageUrl"]}),
        ("file", {"fileUrl": sent[1]["fileUrl"], "title": "notes.pdf"}),
    ]
    link = urlsplit(sent[0]["imageUrl"])
    served = await bridge.client.get(f"{link.path}?{link.query}")
    assert served.status == 200 and await served.read() == PNG


async def test_an_event_of_a_conversation_botpress_forgot_is_refused_with_a_404(
    inbox_bridge: tuple[Bridge, InboxService], bp_api: BotpressMockRouter, fake_botpress: FakeBotpress
) -> None:
    """The inbox's outbox reads a 404 as permanent: the message shows as failed instead of being retried for ever."""
    bridge, service = inbox_bridge
    _, (bp_conversation_id, session_id) = await _claimed_session(bridge, service, bp_api)
    del fake_botpress.conversations[bp_conversation_id]  # the bot's data was deleted in Botpress
    await _forget_the_memo(bridge, session_id)  # as on a worker that never saw the session
    event = await signed_event(service, session_id, "agent_assigned")
    body = webhook_body(event.model_dump())
    answer = await bridge.client.post("/", data=body, headers=runtime_headers("webhook_received", bridge.configuration))
    assert answer.status == 404, await answer.text()
    assert "no longer knows this conversation" in await answer.text()


async def _forget_the_memo(bridge: Bridge, external_session_id: str) -> None:
    """Let the memo of the session's conversation expire (the memo has no delete; a TTL of a millisecond)."""
    coordinator = bridge.client.app[SERVICES].coordinator
    await coordinator.memo_set(f"session-conv:{TEST_BOT_ID}:{external_session_id}", "{}", 0.001)
    await asyncio.sleep(0.05)


async def _claimed_session(
    bridge: Bridge, service: InboxService, bp_api: BotpressMockRouter
) -> tuple[Agent, tuple[str, str]]:
    """Register, start one handoff and have Bob claim it: Bob, and the Botpress conversation and inbox session ids."""
    await bridge.call("register", {"webhookUrl": INBOX_WEBHOOK_URL})
    agent = await service.agents.create("bob@example.com", "correct horse battery", name="Bob", role="agent")
    agent = await service.agents.set_status(agent.id, "available")
    _, sessions = await start_flow(bridge, CallLog({"botpress": bp_api}), 1)
    await service.actions.claim(agent, sessions[0][1])
    return agent, sessions[0]
