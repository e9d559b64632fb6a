"""A whole Zendesk handoff with real HTTP between three processes: this test (the end user and the Zendesk agent),
``hitl-bridge sandbox --adapter zendesk`` (the emulated Botpress and the integration) and the fake Zendesk server.

The end user only uses the sandbox chat page's endpoints (``/sandbox/chat/start``, ``/messages``, the ``/stream``
of server-sent events); the agent only acts through the fake Zendesk's ``/_test/...`` endpoints, which send the
signed trigger webhooks to the webhook URL the integration registered. Every request the adapter made to Zendesk
was checked against the Zendesk API contract by the fake server.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from integration.sandbox.bot import ANSWERS, WELCOME, WELCOME_BACK
from integration.sandbox.plugin_config import DEFAULT_TEXTS

from .conftest import CAT_PNG, Server, eventually
from .zendesk_server import ZendeskServer

HANDOFF_TEXT = DEFAULT_TEXTS["on_hitl_handoff_message"]
JOINED_TEXT = DEFAULT_TEXTS["on_human_agent_assigned_message"]
STOPPED_TEXT = DEFAULT_TEXTS["on_hitl_stopped_message"]
HOURS_ANSWER = ANSWERS[0][1]
AGENT_REPLY_HTML = "<p>Hi Jane, <b>Bob</b> here</p>"
AGENT_REPLY_TEXT = "Hi Jane, **Bob** here"
LAST_WORDS = "Refund done, bye!"


class Conversation:
    """One conversation's messages as the chat page receives them: its server-sent event stream, read live."""

    def __init__(self, http: httpx.AsyncClient, sandbox_url: str, conversation_id: str, label: str) -> None:
        self.label = label
        self.messages: list[dict[str, Any]] = []
        self.opened = asyncio.Event()
        self._task = asyncio.create_task(self._read(http, f"{sandbox_url}/sandbox/chat/stream", conversation_id))

    async def _read(self, http: httpx.AsyncClient, url: str, conversation_id: str) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        async with http.stream("GET", url, params={"conversationId": conversation_id}, timeout=timeout) as response:
            response.raise_for_status()
            self.opened.set()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    self.messages.append(json.loads(line.removeprefix("data: ")))

    async def wait_open(self) -> None:
        """Fail unless the stream opened (the conversation exists), re-raising the reader's error if any."""
        await eventually(
            lambda: self.opened.is_set() or self._task.done(), "the chat stream to open", within_seconds=10
        )
        if self._task.done():
            self._task.result()

    def texts(self, sender: str | None = None) -> list[str]:
        """Texts shown so far, of one sender (``user``, ``bot`` or ``agent``) or all."""
        return [
            str(m["payload"].get("text"))
            for m in self.messages
            if m["type"] == "text" and (sender is None or m["from"] == sender)
        ]

    async def close(self) -> None:
        """Stop reading."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


class ChatUser:
    """The end user on the sandbox chat page."""

    def __init__(self, http: httpx.AsyncClient, sandbox_url: str) -> None:
        self._http, self._url = http, sandbox_url
        self.session: dict[str, str] = {}

    async def start(self, name: str) -> dict[str, str]:
        """Open a new chat (``POST /sandbox/chat/start``)."""
        response = await self._http.post(f"{self._url}/sandbox/chat/start", json={"name": name})
        assert response.status_code == 200, response.text
        self.session = {key: response.json()[key] for key in ("userId", "conversationId")}
        return self.session

    async def send(self, **message: str) -> None:
        """Send one message (``POST /sandbox/chat/messages``): ``text=...`` or ``type="image", imageUrl=...``."""
        response = await self._http.post(f"{self._url}/sandbox/chat/messages", json={**self.session, **message})
        assert response.status_code == 201, response.text


class ZendeskAgent:
    """The agent and the test's view of the fake Zendesk account (its ``/_test`` endpoints)."""

    def __init__(self, http: httpx.AsyncClient, zendesk_url: str) -> None:
        self._http, self.url = http, zendesk_url

    async def _act(self, action: str, **body: Any) -> list[dict[str, Any]]:
        response = await self._http.post(f"{self.url}/_test/{action}", json=body)
        assert response.status_code == 200, response.text
        deliveries: list[dict[str, Any]] = response.json()["deliveries"]
        for delivery in deliveries:
            assert delivery["answer"]["status"] == 200, f"the webhook was refused: {delivery}"
        return deliveries

    async def comment(self, ticket_id: int, html: str) -> list[dict[str, Any]]:
        return await self._act("agent_comment", ticket_id=ticket_id, html=html)

    async def assign(self, ticket_id: int) -> list[dict[str, Any]]:
        return await self._act("assign", ticket_id=ticket_id)

    async def solve(self, ticket_id: int, comment_html: str) -> list[dict[str, Any]]:
        return await self._act("solve", ticket_id=ticket_id, comment_html=comment_html)

    async def redeliver(self, delivery_id: int) -> list[dict[str, Any]]:
        return await self._act("redeliver", delivery=delivery_id)

    async def state(self) -> dict[str, Any]:
        response = await self._http.get(f"{self.url}/_test/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def violations(self) -> list[str]:
        response = await self._http.get(f"{self.url}/_test/violations")
        response.raise_for_status()
        found: list[str] = response.json()["violations"]
        return found

    async def only_ticket(self) -> dict[str, Any] | None:
        tickets = list((await self.state())["tickets"].values())
        assert len(tickets) <= 1, f"more than one ticket: {tickets}"
        return tickets[0] if tickets else None


async def chat_state(http: httpx.AsyncClient, sandbox_url: str, streams: list[Conversation]) -> list[str]:
    """What a failed step shows of the chat side: every conversation's messages so far, and the sandbox's status."""
    shown = [f"  [{s.label}] {m['from']}: {m['type']} {m['payload']}" for s in streams for m in s.messages]
    status = (await http.get(f"{sandbox_url}/sandbox/chat/status")).json()
    return ["conversations:", *shown, f"sandbox status: {json.dumps(status)[:3000]}"]


async def close_all(streams: list[Conversation]) -> None:
    """Stop reading every conversation's stream."""
    for stream in streams:
        await stream.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        yield client


@pytest.mark.e2e
async def test_a_zendesk_handoff_end_to_end_over_real_http(
    http: httpx.AsyncClient, sandbox_server: Server, zendesk_server: Server
) -> None:
    agent = ZendeskAgent(http, zendesk_server.url)
    user = ChatUser(http, sandbox_server.url)
    streams: list[Conversation] = []

    async def diagnostics() -> str:
        return "\n".join(
            [
                *await chat_state(http, sandbox_server.url, streams),
                f"zendesk violations: {await agent.violations()}",
                f"--- hitl-bridge log ---\n{sandbox_server.process.log_tail(40)}",
                f"--- fake Zendesk log ---\n{zendesk_server.process.log_tail(20)}",
            ]
        )

    async def until(check: Any, what: str) -> Any:
        return await eventually(check, what, diagnostics=diagnostics)

    try:
        await _scenario(http, sandbox_server, agent, user, streams, until)
    finally:
        await close_all(streams)
        violations = await agent.violations()  # also when a step failed: a violation is often why
        assert violations == [], "Zendesk API contract violations:\n" + "\n".join(violations)


async def _scenario(
    http: httpx.AsyncClient,
    sandbox_server: Server,
    agent: ZendeskAgent,
    user: ChatUser,
    streams: list[Conversation],
    until: Any,
) -> None:
    # 0. The sandbox registered the integration; it created the webhook (to the sandbox) and three triggers.
    async def registered() -> dict[str, Any] | None:
        status: dict[str, Any] = (await http.get(f"{sandbox_server.url}/sandbox/chat/status")).json()
        if status["registration"].startswith("failed"):
            pytest.fail(f"register failed: {status['registration']}", pytrace=False)
        return status if status["registration"] == "registered" else None

    status = await until(registered, "the sandbox to register the integration (Zendesk webhook and triggers)")
    assert status["webhookUrl"].startswith(f"{sandbox_server.url}/webhook/")
    account = await agent.state()
    assert [w["endpoint"] for w in account["webhooks"]] == [status["webhookUrl"]]
    assert len(account["triggers"]) == 3
    marker = _marker_tag(account["triggers"])

    # 1. The user chats with the scripted bot.
    session = await user.start("Jane Doe")
    chat = Conversation(http, sandbox_server.url, session["conversationId"], "chat")
    streams.append(chat)
    await chat.wait_open()
    await user.send(text="hello")
    await until(lambda: WELCOME in chat.texts("bot"), "the bot's welcome")

    # 2. Asking for a human: createUser + startHitl open a ticket with the transcript, requester, external id, tag.
    await user.send(text="I need a human please")
    await until(lambda: HANDOFF_TEXT in chat.texts("bot"), "the handoff message")
    ticket = await until(agent.only_ticket, "a ticket in Zendesk")
    ticket_id = int(ticket["id"])
    account = await agent.state()
    requester = account["users"][str(ticket["requester_id"])]
    assert (requester["name"], requester["role"]) == ("Jane Doe", "end-user")
    assert marker in ticket["tags"]
    assert ticket["subject"] == "Sandbox chat with Jane Doe"
    description, _, transcript = ticket["comments"][0]["html_body"].partition("<hr>")
    assert "I need a human please" in description
    said = [html.escape(text) for text in ("hello", WELCOME, "I need a human please", HANDOFF_TEXT)]
    assert all(text in transcript for text in said), f"the transcript misses messages: {transcript}"
    assert [transcript.index(text) for text in said] == sorted(transcript.index(text) for text in said)
    hitl = await until(lambda: ticket_external_id(agent, ticket_id), "external_id set to the Botpress conversation")
    assert hitl != session["conversationId"]
    downstream = Conversation(http, sandbox_server.url, hitl, "hitl")  # it exists in the emulated Botpress
    streams.append(downstream)
    await downstream.wait_open()
    bot_texts_at_handoff = len(chat.texts("bot"))

    # 3. The user's text and image become comments by the requester; the image is a real upload.
    await user.send(text="My order 1234 never arrived")
    await user.send(type="image", imageUrl=f"{agent.url}/media/cat.png", title="Receipt photo")
    comments = await until(lambda: _comments(agent, ticket_id, 3), "the user's two messages as comments")
    text_comment, image_comment = comments[1], comments[2]
    assert text_comment["body"] == "My order 1234 never arrived"
    assert {text_comment["author_id"], image_comment["author_id"]} == {requester["id"]}
    assert "Receipt photo" in image_comment["body"]
    (attachment,) = image_comment["attachments"]
    assert (attachment["file_name"], attachment["content_type"], attachment["size"]) == (
        "cat.png",
        "image/png",
        len(CAT_PNG),
    )
    assert [m["type"] for m in downstream.messages] == ["text", "image"]  # what the integration was given
    assert len(chat.texts("bot")) == bot_texts_at_handoff  # the bot stays quiet during the session

    # 4. The agent replies in Zendesk: the signed webhook reaches the integration, the user sees the reply.
    (reply,) = await agent.comment(ticket_id, AGENT_REPLY_HTML)
    await until(lambda: AGENT_REPLY_TEXT in chat.texts("agent"), "the agent's reply in the chat")
    shown = [m for m in chat.messages if m["from"] == "agent"]
    assert shown[0]["name"] == "Bob Agent"
    assert chat.texts("bot").count(JOINED_TEXT) == 1  # the first agent message assigns the agent

    # 5. Zendesk delivers the same webhook again: nothing new is shown.
    await agent.redeliver(reply["id"])

    # 6. The agent takes the ticket: "agent joined" again (the inbox is FIFO: the redelivery was handled before).
    await agent.assign(ticket_id)
    await until(lambda: chat.texts("bot").count(JOINED_TEXT) == 2, "the 'agent joined' message after assignment")
    assert chat.texts("agent").count(AGENT_REPLY_TEXT) == 1

    # 7. The agent solves the ticket with a last comment: the comment, then the stopped text, and the bot is back.
    await agent.solve(ticket_id, f"<p>{LAST_WORDS}</p>")
    await until(lambda: WELCOME_BACK in chat.texts("bot"), "the bot taking the conversation back")
    texts = chat.texts()
    assert texts.count(LAST_WORDS) == 1
    assert texts.index(LAST_WORDS) < texts.index(STOPPED_TEXT) < texts.index(WELCOME_BACK)

    # 8. The bot answers again; nothing more goes to the ticket.
    await user.send(text="what are your opening hours?")
    await until(lambda: HOURS_ANSWER in chat.texts("bot"), "the bot answering after the session")
    final = (await agent.state())["tickets"][str(ticket_id)]
    assert final["status"] == "solved"
    assert [c["body"] for c in final["comments"][1:3]] == [text_comment["body"], image_comment["body"]]
    assert len(final["comments"]) == 5  # opening, text, image, agent reply, last words

    # 9. Every request the adapter sent to Zendesk respected the API contract: checked by the caller, pass or fail.


def _marker_tag(triggers: list[dict[str, Any]]) -> str:
    """The tag every trigger requires (``current_tags includes <marker>``)."""
    tags = {
        c["value"]
        for trigger in triggers
        for c in trigger["conditions"]["all"]
        if c["field"] == "current_tags" and c["operator"] == "includes"
    }
    assert len(tags) == 1, f"the triggers should all require one marker tag: {tags}"
    return str(tags.pop())


async def ticket_external_id(agent: ZendeskAgent, ticket_id: int) -> str | None:
    """The ticket's external_id once it names a Botpress conversation (it starts as an idempotency key)."""
    external_id = (await agent.state())["tickets"][str(ticket_id)].get("external_id")
    return external_id if isinstance(external_id, str) and external_id.startswith("conv_") else None


async def _comments(agent: ZendeskAgent, ticket_id: int, count: int) -> list[dict[str, Any]] | None:
    comments: list[dict[str, Any]] = (await agent.state())["tickets"][str(ticket_id)]["comments"]
    return comments if len(comments) >= count else None


# --- the fake Zendesk server's own checks (in-process, so they run with the unit tests) ----------------------------

BASIC = {"authorization": "Basic YWdlbnRAYWNtZS50ZXN0L3Rva2VuOnQwa2Vu"}
JANE = {"name": "Jane Doe", "email": "jane@example.com"}


@pytest.fixture
async def fake_zendesk_client(aiohttp_client: Any, media_dir: Any) -> Any:
    return await aiohttp_client(ZendeskServer(media_dir).app())


async def test_the_fake_server_records_a_request_breaking_the_contract(fake_zendesk_client: Any) -> None:
    no_auth = await fake_zendesk_client.post("/api/v2/tickets.json", json={"ticket": {"comment": {"body": "x"}}})
    bad_enum = await fake_zendesk_client.post(
        "/api/v2/tickets.json", json={"ticket": {"comment": {"body": "x"}, "priority": "critical"}}, headers=BASIC
    )
    assert (no_auth.status, bad_enum.status) == (400, 400)
    violations = (await (await fake_zendesk_client.get("/_test/violations")).json())["violations"]
    assert len(violations) == 2
    assert "Authorization" in violations[0] and "priority" in violations[1]
    assert (await (await fake_zendesk_client.get("/_test/state")).json())["tickets"] == {}


async def test_the_fake_server_serves_valid_requests_without_violations(fake_zendesk_client: Any) -> None:
    created = await fake_zendesk_client.post(
        "/api/v2/tickets.json",
        json={"ticket": {"subject": "Hi", "comment": {"body": "Hello"}, "requester": JANE}},
        headers=BASIC,
    )
    assert created.status == 201, await created.text()
    ticket_id = (await created.json())["ticket"]["id"]
    shown = await fake_zendesk_client.get(f"/api/v2/tickets/{ticket_id}.json", headers=BASIC)
    assert (await shown.json())["ticket"]["subject"] == "Hi"
    assert (await (await fake_zendesk_client.get("/_test/violations")).json()) == {"violations": []}


async def test_the_fake_server_serves_media_files_only(fake_zendesk_client: Any) -> None:
    cat = await fake_zendesk_client.get("/media/cat.png")
    assert (cat.status, cat.content_type, await cat.read()) == (200, "image/png", CAT_PNG)
    assert (await fake_zendesk_client.get("/media/..%2Fzendesk.log")).status == 404
    assert (await fake_zendesk_client.get("/media/missing.png")).status == 404
