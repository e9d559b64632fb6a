"""Upstream calls per operation, pinned: a change that adds (or drops) a Botpress or helpdesk call fails here.

Call counts are not timings. Every operation goes through the real aiohttp app, as the runtime sends it; the
calls are read off the contract-checked respx routers (``bp_api``, ``zendesk_api``), which see every request.

Warm, not cold: each test first runs the whole flow once for another end user (the warm-up, not pinned), so the
caches (the coordinator's author memo, the Zendesk runtime) hold what a real server's second conversation
finds; the pinned numbers are those of the second run. The message author memo is per user: the first text of a
user is pinned apart ("author not cached") from the next ones. A redelivered message is answered from the delivery
journal (a local database, shared by the workers and kept through a restart), with no helpdesk call. Journal, lock
and memo calls are local database calls, not upstream calls: they are not counted here.

To change a pin on purpose: run this module, read the failure (one line per operation and upstream, with the calls
added and missing), and edit the table below in the same commit as the change that caused it, saying why.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from aiohttp import web
from aiohttp.test_utils import TestClient

from external_adapters import WebhookRequest
from external_adapters.inbox import InboxService
from external_adapters.inbox.signing import signed_headers
from external_adapters.zendesk import ZendeskRuntime
from integration.app import create_app
from integration.app_keys import ADAPTER_BACKENDS
from tests import conftest as shared
from tests.adapter_kit import RecordedSleeps, fixed_dns
from tests.contracts.botpress import TEST_BOT_ID, TEST_INTEGRATION_ID, BotpressMockRouter
from tests.contracts.zendesk import ZendeskMockRouter
from tests.external_adapters.zendesk.conftest import CONFIG as ZENDESK_CREDENTIALS
from tests.external_adapters.zendesk.fake_zendesk import FakeZendesk
from tests.fake_botpress import FakeBotpress

from .call_log import Bridge, CallLog, Calls, pin_differences

ZENDESK_CONFIG = {**ZENDESK_CREDENTIALS, "adapter": "zendesk", "closeStatus": "closed"}
INBOX_CONFIG = {"adapter": "inbox"}
BP_WEBHOOK_URL = "https://webhook.botpress.cloud/wh_01JTESTWEBHOOK000000000000000"
HOOKS_URL = "https://hooks.example.test"
INBOX_WEBHOOK_URL = f"{HOOKS_URL}/wh_01JTESTWEBHOOK"
HISTORY_SIZES = (0, 50, 1000)


# --- the pins -----------------------------------------------------------------------------------------------------
# Warm numbers (see the module docstring), except register and unregister, run once per installation: cold.
# Each entry: the Botpress calls and the helpdesk calls of one operation, in the order sent. The inbox is in
# process (SQLite): it makes no HTTP call during an operation (its outbox POSTs go out in the background, and come
# back as webhook_received), so only its Botpress calls are pinned.

ZD_SUBSCRIPTION_GET = "GET /v1/chat/states/integration/{id}/zendeskSubscription"
ZD_SUBSCRIPTION_SET = "POST /v1/chat/states/integration/{id}/zendeskSubscription"
SESSION_GET = "GET /v1/chat/states/conversation/{id}/hitlSession"
SESSION_SET = "POST /v1/chat/states/conversation/{id}/hitlSession"

BP_CREATE_USER = ("POST /v1/chat/users/get-or-create", "PUT /v1/chat/users/{id}")
BP_START_HITL = ("POST /v1/chat/conversations/get-or-create",)
"""Only the conversation: the user is the one createUser just linked (the coordinator's memo ``user:``), the start
record is kept in the coordinator's memo (local, durable, shared by the workers), and no ``hitlSession`` record is
written at start (webhooks and stopHitl take a missing one for the default)."""
BP_TEXT = ("PUT /v1/chat/messages/{id}",)
BP_TEXT_NEW_AUTHOR = ("GET /v1/chat/users/{id}", *BP_TEXT)
BP_MESSAGE = "POST /v1/chat/messages/get-or-create"
"""An agent message: its get-or-create on the message tag is its dedup; no hitlSession read or write. The agent's
Botpress user comes from the coordinator's memo (warm: the warm-up's agent is the same)."""
BP_AGENT_REPLY = (BP_MESSAGE,)
"""An agent reply, the session's first event included: startHitl left the session's conversation in the memo when it
linked it (integration.hitl.lookups.remember_conversation), and the agent's user is in the memo too."""
BP_AGENT_REPLY_NEXT = BP_AGENT_REPLY
BP_ASSIGNMENT = (SESSION_GET, "POST /v1/chat/events", SESSION_SET)
"""An assignment keeps its hitlSession read-modify-write (dedupe key, assigned agent); no lookup of the
conversation (memo) nor of the agent's user (memo)."""
BP_SOLVE = (SESSION_GET, "POST /v1/chat/events", SESSION_SET)
BP_AGENT_USER = "POST /v1/chat/users/get-or-create"
BP_STOP_HITL = ("GET /v1/chat/conversations/{id}", SESSION_GET, SESSION_SET)

ZD_CREATE_USER = ("POST /api/v2/users/create_or_update",)
ZD_START_HITL = ("POST /api/v2/tickets", "PUT /api/v2/tickets/{id}")
"""The create and the link: no look-up of the ticket first, since the key was minted by this very call."""
ZD_COMMENTS = "GET /api/v2/tickets/{id}/comments?include,page[size],sort"

ZENDESK_PINS: dict[str, dict[str, Calls]] = {
    "register": {
        "botpress": (ZD_SUBSCRIPTION_GET, *[ZD_SUBSCRIPTION_SET] * 4),
        "zendesk": (
            "POST /api/v2/webhooks",
            "GET /api/v2/webhooks/{id}/signing_secret",
            "POST /api/v2/users/create_or_update",
            *["POST /api/v2/triggers"] * 3,
        ),
    },
    "createUser without email": {"botpress": BP_CREATE_USER, "zendesk": ZD_CREATE_USER},
    "createUser with email": {"botpress": BP_CREATE_USER, "zendesk": ZD_CREATE_USER},
    **{f"startHitl, history of {n}": {"botpress": BP_START_HITL, "zendesk": ZD_START_HITL} for n in HISTORY_SIZES},
    "message_created text, author not cached": {
        "botpress": BP_TEXT_NEW_AUTHOR,
        "zendesk": ("PUT /api/v2/tickets/{id}",),
    },
    "message_created text": {"botpress": BP_TEXT, "zendesk": ("PUT /api/v2/tickets/{id}",)},
    "message_created text, redelivered": {"botpress": BP_TEXT, "zendesk": ()},
    # A webhook reads no zendeskSubscription: the signing secret and the marker are cached in the process
    # (ZendeskRuntime.subscriptions). The comments read are those newer than the ticket's mark (one page).
    "webhook_received agent reply": {"botpress": BP_AGENT_REPLY, "zendesk": (ZD_COMMENTS,)},
    "webhook_received agent reply, next": {"botpress": BP_AGENT_REPLY_NEXT, "zendesk": (ZD_COMMENTS,)},
    # Its comment is at or below the ticket's mark, so already in Botpress: nothing is read, nothing applied.
    "webhook_received agent reply, redelivered": {"botpress": (), "zendesk": ()},
    "webhook_received assignment": {
        "botpress": BP_ASSIGNMENT,
        "zendesk": ("GET /api/v2/tickets/{id}", "GET /api/v2/users/{id}"),
    },
    "webhook_received solve": {
        # The solve's comment is the last reply, already applied (at the mark): no comment is read. The ticket's
        # assignee, already announced, still has its event key remembered (its user read from Zendesk, as no
        # comment page named it), so a late assignment webhook that another worker applies after the close still
        # has its agent announced first.
        "botpress": (SESSION_GET, SESSION_SET, *BP_SOLVE),
        "zendesk": ("GET /api/v2/tickets/{id}", "GET /api/v2/users/{id}"),
    },
    "stopHitl": {"botpress": BP_STOP_HITL, "zendesk": ("GET /api/v2/tickets/{id}", "PUT /api/v2/tickets/{id}")},
    "unregister": {
        "botpress": (ZD_SUBSCRIPTION_GET, ZD_SUBSCRIPTION_SET),
        "zendesk": (*["DELETE /api/v2/triggers/{id}"] * 3, "DELETE /api/v2/webhooks/{id}"),
    },
}

INBOX_PINS: dict[str, dict[str, Calls]] = {
    "register": {"botpress": ()},
    "createUser without email": {"botpress": BP_CREATE_USER},
    "createUser with email": {"botpress": BP_CREATE_USER},
    **{f"startHitl, history of {n}": {"botpress": BP_START_HITL} for n in HISTORY_SIZES},
    "message_created text, author not cached": {"botpress": BP_TEXT_NEW_AUTHOR},
    "message_created text": {"botpress": BP_TEXT},
    "message_created text, redelivered": {"botpress": BP_TEXT},
    # The session's first event, by an agent new to this run (each flow makes its own): its user is made once; the
    # conversation is in the memo since startHitl linked the session.
    "webhook_received assignment": {"botpress": (SESSION_GET, BP_AGENT_USER, *BP_ASSIGNMENT[1:])},
    "webhook_received agent reply": {"botpress": BP_AGENT_REPLY},
    "webhook_received agent reply, next": {"botpress": BP_AGENT_REPLY_NEXT},
    # The inbox's events carry their content: a redelivery is dropped by the message's get-or-create on its tag.
    "webhook_received agent reply, redelivered": {"botpress": (BP_MESSAGE,)},
    "webhook_received solve": {"botpress": BP_SOLVE},
    "stopHitl": {"botpress": BP_STOP_HITL},
    "unregister": {"botpress": ()},
}


def assert_pinned(log: CallLog, pins: dict[str, dict[str, Calls]]) -> None:
    """Every operation made exactly its pinned calls, and startHitl's do not grow with the history."""
    starts = {tuple(log.measured[f"startHitl, history of {n}"].items()) for n in HISTORY_SIZES}
    assert len(starts) == 1, f"startHitl's calls depend on the history's size: {starts}"
    assert log.measured == pins, "calls differ from the pins:\n" + pin_differences(log.measured, pins)


# --- Zendesk ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def zendesk_bridge(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, zendesk_api: ZendeskMockRouter
) -> tuple[Bridge, FakeZendesk]:
    fake_zendesk = FakeZendesk().install(zendesk_api)
    app: web.Application = create_app(shared.test_settings(tmp_path, adapter="zendesk"))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    runtime = client.app[ADAPTER_BACKENDS]["zendesk"]
    assert isinstance(runtime, ZendeskRuntime)
    runtime.sleep, runtime.resolve = RecordedSleeps(), fixed_dns
    return Bridge(client, ZENDESK_CONFIG, fake_botpress), fake_zendesk


async def zendesk_flow(bridge: Bridge, zendesk: FakeZendesk, log: CallLog, n: int) -> None:
    """createUser, startHitl, messages, agent webhooks and stopHitl for end user ``n``, each op measured."""
    bp_user_id, sessions = await start_flow(bridge, log, n)
    await message_flow(bridge, log, bp_user_id, sessions[0])
    ticket_id = int(sessions[0][1])
    (reply,) = zendesk.agent_comment(ticket_id, "<p>Hello</p>")
    await log.measure("webhook_received agent reply", lambda: bridge.webhook(reply))
    await log.measure("webhook_received agent reply, redelivered", lambda: bridge.webhook(reply))
    (following,) = zendesk.agent_comment(ticket_id, "<p>Anything else?</p>")
    await log.measure("webhook_received agent reply, next", lambda: bridge.webhook(following))
    (assigned,) = zendesk.assign(ticket_id)
    await log.measure("webhook_received assignment", lambda: bridge.webhook(assigned))
    (solved,) = zendesk.set_status(ticket_id, "solved")
    await log.measure("webhook_received solve", lambda: bridge.webhook(solved))
    await log.measure("stopHitl", lambda: bridge.action("stopHitl", {"conversationId": sessions[50][0]}))


async def start_flow(bridge: Bridge, log: CallLog, n: int) -> tuple[str, dict[int, tuple[str, str]]]:
    """Both createUser kinds, then one startHitl per history size; returns the user and the sessions by size."""
    await log.measure("createUser without email", lambda: bridge.create_user(None))
    bp_user_id = await log.measure("createUser with email", lambda: bridge.create_user(f"jane{n}@example.com"))
    sessions = {}
    for size in HISTORY_SIZES:
        start = functools.partial(bridge.start_hitl, bp_user_id, f"Help {n}.{size}", size)
        sessions[size] = await log.measure(f"startHitl, history of {size}", start)
    return bp_user_id, sessions


async def message_flow(bridge: Bridge, log: CallLog, bp_user_id: str, session: tuple[str, str]) -> None:
    """The user's first text (its author not yet cached), a second one, and the redelivery of the second."""
    first, second = (bridge.text_message(*session, bp_user_id) for _ in range(2))
    await log.measure("message_created text, author not cached", lambda: bridge.call("message_created", first))
    await log.measure("message_created text", lambda: bridge.call("message_created", second))
    await log.measure("message_created text, redelivered", lambda: bridge.call("message_created", second))


async def test_zendesk_call_counts(
    zendesk_bridge: tuple[Bridge, FakeZendesk], bp_api: BotpressMockRouter, zendesk_api: ZendeskMockRouter
) -> None:
    bridge, zendesk = zendesk_bridge
    log = CallLog({"botpress": bp_api, "zendesk": zendesk_api})
    await log.measure("register", lambda: bridge.call("register", {"webhookUrl": BP_WEBHOOK_URL}))
    await zendesk_flow(bridge, zendesk, CallLog(log.upstreams), 1)  # the warm-up: not pinned
    await zendesk_flow(bridge, zendesk, log, 2)
    await log.measure("unregister", lambda: bridge.call("unregister", {"webhookUrl": BP_WEBHOOK_URL}))
    assert_pinned(log, ZENDESK_PINS)


# --- the inbox ----------------------------------------------------------------------------------------------------


@pytest.fixture
def hooks() -> Iterator[respx.MockRouter]:
    """The webhook URL the inbox's outbox posts to in the background; the test relays the events itself."""
    router = respx.MockRouter(base_url=HOOKS_URL, assert_all_mocked=True, assert_all_called=False)
    router.post("/wh_01JTESTWEBHOOK").mock(return_value=httpx.Response(200))
    with router:
        yield router


@pytest.fixture
async def inbox_bridge(
    aiohttp_client: Any, tmp_path: Path, fake_botpress: FakeBotpress, hooks: respx.MockRouter
) -> tuple[Bridge, InboxService]:
    app: web.Application = create_app(shared.test_settings(tmp_path, adapter="inbox"))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    service = client.app[ADAPTER_BACKENDS]["inbox"]
    assert isinstance(service, InboxService)
    return Bridge(client, INBOX_CONFIG, fake_botpress), service


async def signed_event(service: InboxService, session_id: str, event_type: str) -> WebhookRequest:
    """The session's latest outbox event of ``event_type``, signed as the outbox POSTs it."""
    rows = await service.store.fetch_all(
        "SELECT event_id, body FROM outbox WHERE session_id = ? ORDER BY id DESC", (session_id,)
    )
    row = next(r for r in rows if json.loads(r["body"])["type"] == event_type)
    installation = await service.intake.installation(TEST_BOT_ID, TEST_INTEGRATION_ID)
    assert installation is not None
    headers = signed_headers(installation.secret, int(time.time()), row["body"], row["event_id"])
    return WebhookRequest(method="POST", path="/", headers=headers, body=row["body"])


async def inbox_flow(bridge: Bridge, service: InboxService, log: CallLog, n: int) -> None:
    """The Zendesk flow's operations on the inbox; the agent acts through the inbox service, as the console does."""
    agent = await service.agents.create(f"agent{n}@example.com", "correct horse battery", name="Bob", role="agent")
    agent = await service.agents.set_status(agent.id, "available")
    bp_user_id, sessions = await start_flow(bridge, log, n)
    session_id = sessions[0][1]
    await message_flow(bridge, log, bp_user_id, sessions[0])
    await service.actions.claim(agent, session_id)
    assigned = await signed_event(service, session_id, "agent_assigned")
    await log.measure("webhook_received assignment", lambda: bridge.webhook(assigned))
    await service.actions.reply(agent, session_id, "Hello")
    reply = await signed_event(service, session_id, "agent_message")
    await log.measure("webhook_received agent reply", lambda: bridge.webhook(reply))
    await log.measure("webhook_received agent reply, redelivered", lambda: bridge.webhook(reply))
    await service.actions.reply(agent, session_id, "Anything else?")
    following = await signed_event(service, session_id, "agent_message")
    await log.measure("webhook_received agent reply, next", lambda: bridge.webhook(following))
    await service.actions.resolve(agent, session_id)
    closed = await signed_event(service, session_id, "session_closed")
    await log.measure("webhook_received solve", lambda: bridge.webhook(closed))
    await log.measure("stopHitl", lambda: bridge.action("stopHitl", {"conversationId": sessions[50][0]}))


async def test_inbox_call_counts(inbox_bridge: tuple[Bridge, InboxService], bp_api: BotpressMockRouter) -> None:
    bridge, service = inbox_bridge
    log = CallLog({"botpress": bp_api})
    await log.measure("register", lambda: bridge.call("register", {"webhookUrl": INBOX_WEBHOOK_URL}))
    await inbox_flow(bridge, service, CallLog(log.upstreams), 1)  # the warm-up: not pinned
    await inbox_flow(bridge, service, log, 2)
    await log.measure("unregister", lambda: bridge.call("unregister", {"webhookUrl": INBOX_WEBHOOK_URL}))
    assert_pinned(log, INBOX_PINS)
