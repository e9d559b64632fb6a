"""The fake Zendesk server (tests/e2e/zendesk_server.py) keeps what find_message reads, over real HTTP.

The adapter talks to the server on a loopback socket, as the end-to-end and crash tests' processes do: the comment's
audit keeps the Botpress message id in ``metadata.custom``, the audits are listed, and every request and answer
holds to the Zendesk OpenAPI (no violation recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest_aiohttp
from aiohttp.test_utils import TestServer

from bp_modules.hitl import parse_hitl_payload
from external_adapters import EndUser, ExternalUserRequest, OpenSessionRequest, OutboundMessage, Transcript
from external_adapters.zendesk import ZendeskAdapter
from tests.e2e.zendesk_server import ZendeskServer

from .conftest import WEBHOOK_URL, Built


async def test_find_message_finds_a_comment_on_the_fake_server(
    aiohttp_server: pytest_aiohttp.AiohttpServer, build: Any, tmp_path: Path
) -> None:
    fake = ZendeskServer(tmp_path)
    server: TestServer = await aiohttp_server(fake.app())
    built: Built = build(allow_vendor_base_urls=True, baseUrl=f"http://127.0.0.1:{server.port}")
    adapter = built.adapter
    await adapter.subscribe(WEBHOOK_URL)
    jane = await adapter.create_user(ExternalUserRequest(bp_user_id="user_01", name="Jane"))
    ticket_id = await adapter.open_session(
        OpenSessionRequest[Any](
            end_user=EndUser(bp_user_id="user_01", external_user_id=jane),
            options=ZendeskAdapter.parse_session_options({}),
            transcript=Transcript(text="", markdown="", html=""),
            idempotency_key="k",
        )
    )
    message = parse_hitl_payload("text", {"text": "over HTTP"})
    sent = OutboundMessage(
        external_session_id=ticket_id, author_external_id=jane, message=message, bp_message_id="msg_http"
    )

    comment_id = await adapter.send_message(sent)

    assert await adapter.find_message(sent) == comment_id
    assert await adapter.find_message(sent.model_copy(update={"bp_message_id": "msg_never"})) is None
    async with httpx.AsyncClient(trust_env=False) as http:
        state = (await http.get(str(server.make_url("/_test/state")))).json()
    audits = state["tickets"][ticket_id]["audits"]
    assert audits[-1]["metadata"]["custom"] == {"hitl_bridge_messages": "msg_http"}
    assert fake.violations == []
