"""A whole Slack handoff with real HTTP between three processes: this test (the end user and the Slack agents),
``hitl-bridge sandbox --adapter slack`` (the emulated Botpress and the integration) and the fake Slack workspace
(``python -m tests.e2e.slack_server``).

The end user only uses the sandbox chat page's endpoints; the agents only act through the fake Slack's ``/_test/``
hooks, which deliver signed Events API and interactivity requests to the integration's webhook URL (its Request
URL), retried while unacknowledged, as Slack does. Every Web API call the adapter made was checked by the fake
(Slack's essentials, and the JSON Schemas of ``tests/contracts/slack/`` when a method has one). Every message
carries a unique token; at the end each token is found exactly once on the other side: nothing lost, nothing
duplicated.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.sandbox.bot import WELCOME, WELCOME_BACK
from integration.sandbox.fake_slack import DEFAULT_AGENTS, DEFAULT_CHANNEL_ID
from integration.sandbox.plugin_config import DEFAULT_TEXTS
from tests.live import free_port

from .conftest import CAT_PNG, HOST, Process, Server, _started, child_env, eventually, hitl_bridge_script, wait_ready
from .test_zendesk_sandbox import ChatUser, Conversation, chat_state, close_all

HANDOFF_TEXT = DEFAULT_TEXTS["on_hitl_handoff_message"]
JOINED_TEXT = DEFAULT_TEXTS["on_human_agent_assigned_message"]
STOPPED_TEXT = DEFAULT_TEXTS["on_hitl_stopped_message"]
BOT_TOKEN = f"xoxb-e2e-{secrets.token_hex(6)}"
SIGNING_SECRET = secrets.token_hex(16)
BOB, ALICE = list(DEFAULT_AGENTS)
CHANNEL = DEFAULT_CHANNEL_ID
REFUND_PDF = b"%PDF-1.4 e2e refund form " * 4
_TOKENS = itertools.count(1)


def token(side: str) -> str:
    """A unique word to find a message by, on the other side."""
    return f"{side}tok{next(_TOKENS):03d}"


@pytest.fixture
def slack_server(request: pytest.FixtureRequest, tmp_path: Path, media_dir: Path) -> Iterator[Server]:
    """The fake Slack workspace over HTTP, its Request URL set later (once the sandbox has registered)."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.e2e.slack_server", "--port", str(port), "--bot-token", BOT_TOKEN,
            "--signing-secret", SIGNING_SECRET, "--media-dir", str(media_dir),
            "--retry-delays", "0.2,0.4,0.8"]  # fmt: skip
    process = _started(request, Process("fake Slack", argv, tmp_path / "slack.log", child_env()))
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/_test/violations")
    yield Server(url, process)


@pytest.fixture
def slack_sandbox(request: pytest.FixtureRequest, tmp_path: Path, slack_server: Server) -> Iterator[Server]:
    """``hitl-bridge sandbox --adapter slack`` on a free port, its configuration pointing at the fake Slack."""
    port = free_port()
    config = {"botToken": BOT_TOKEN, "signingSecret": SIGNING_SECRET, "channelId": CHANNEL,
              "apiBaseUrl": f"{slack_server.url}/api", "mention": "<!here>"}  # fmt: skip
    argv = [str(hitl_bridge_script()), "sandbox", "--adapter", "slack", "--host", HOST, "--port", str(port),
            "--data-dir", str(tmp_path / "bridge-data"), "--config", json.dumps(config)]  # fmt: skip
    # The fake Slack and its media are on loopback: exactly what the setting opts in to. The web parts stay on
    # (HITL_BRIDGE_CONSOLE): the adapter re-serves the agents' files there.
    env = child_env(HITL_BRIDGE_LOG_LEVEL="INFO", HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS="true")
    process = _started(request, Process("hitl-bridge sandbox", argv, tmp_path / "bridge.log", env))
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/health")
    yield Server(url, process)


class SlackAgents:
    """The agents and the test's view of the fake Slack workspace (its ``/_test`` hooks)."""

    def __init__(self, http: httpx.AsyncClient, slack_url: str) -> None:
        self._http, self.url = http, slack_url

    async def hook(self, name: str, **body: Any) -> dict[str, Any]:
        response = await self._http.post(f"{self.url}/_test/{name}", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def acted(self, name: str, **body: Any) -> dict[str, Any]:
        """An agent's act, its delivery acknowledged (2xx) at the first attempt."""
        (delivery,) = (await self.hook(name, **body))["deliveries"]
        assert delivery["answers"][0].get("acknowledged"), f"the delivery was refused: {delivery}"
        return dict(delivery)

    async def reply(self, user: str, thread_ts: str, text: str, **extra: Any) -> dict[str, Any]:
        return await self.acted("reply", channel=CHANNEL, thread_ts=thread_ts, user=user, text=text, **extra)

    async def click(self, user: str, ts: str, action_id: str) -> dict[str, Any]:
        return await self.acted("click", channel=CHANNEL, ts=ts, user=user, action_id=action_id)

    async def get(self, name: str, **params: str) -> dict[str, Any]:
        response = await self._http.get(f"{self.url}/_test/{name}", params=params)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def parents(self) -> list[dict[str, Any]]:
        """The top-level messages of the support channel, oldest first."""
        messages = (await self.get("channel", channel=CHANNEL))["messages"]
        return [m for m in messages if m.get("thread_ts", m["ts"]) == m["ts"]]

    async def thread(self, ts: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self.get("thread", channel=CHANNEL, ts=ts))["messages"]
        return found

    async def channel_text(self) -> str:
        """Everything posted in the channel (texts, blocks, file names), as one string to count tokens in."""
        return json.dumps((await self.get("channel", channel=CHANNEL))["messages"])


@pytest.mark.e2e
async def test_a_slack_handoff_end_to_end_over_real_http(
    http: httpx.AsyncClient, slack_sandbox: Server, slack_server: Server
) -> None:
    agents = SlackAgents(http, slack_server.url)
    user = ChatUser(http, slack_sandbox.url)
    streams: list[Conversation] = []

    async def diagnostics() -> str:
        deliveries = (await agents.get("deliveries"))["deliveries"][-5:]
        return "\n".join(
            [
                *await chat_state(http, slack_sandbox.url, streams),
                f"slack violations: {(await agents.get('violations'))['violations']}",
                f"last deliveries: {json.dumps(deliveries)[:3000]}",
                f"slack channel: {(await agents.channel_text())[:4000]}",
                f"--- hitl-bridge log ---\n{slack_sandbox.process.log_tail(50)}",
                f"--- fake Slack log ---\n{slack_server.process.log_tail(20)}",
            ]
        )  # fmt: skip

    async def until(check: Any, what: str) -> Any:
        return await eventually(check, what, diagnostics=diagnostics, within_seconds=30)

    try:
        await _scenario(http, slack_sandbox, agents, user, streams, until)
    finally:
        await close_all(streams)
        violations = (await agents.get("violations"))["violations"]  # also when a step failed: often why
        assert violations == [], "Slack API contract violations:\n" + "\n".join(violations)


async def _scenario(
    http: httpx.AsyncClient,
    sandbox: Server,
    agents: SlackAgents,
    user: ChatUser,
    streams: list[Conversation],
    until: Any,
) -> None:
    # 0. The sandbox registered the integration (auth.test, the channel joined); Slack is told the Request URL and
    #    checks it with url_verification.
    async def registered() -> dict[str, Any] | None:
        status: dict[str, Any] = (await http.get(f"{sandbox.url}/sandbox/chat/status")).json()
        if status["registration"].startswith("failed"):
            pytest.fail(f"register failed: {status['registration']}", pytrace=False)
        return status if status["registration"] == "registered" else None

    status = await until(registered, "the sandbox to register the integration with Slack")
    await agents.hook("config", request_url=status["webhookUrl"])
    (verified,) = (await agents.hook("url_verification", challenge="e2e-challenge"))["deliveries"]
    assert verified["answers"][0]["status"] == 200 and "e2e-challenge" in verified["answers"][0]["body"]
    assert (await agents.get("channel", channel=CHANNEL))["channel"]["is_member"]

    # 1. The user chats with the scripted bot, then asks for a human: one parent message with the transcript,
    #    the mention and the Claim and Close buttons; the session's key in its metadata.
    session = await user.start("Jane Doe")
    chat = Conversation(http, sandbox.url, session["conversationId"], "chat")
    streams.append(chat)
    await chat.wait_open()
    await user.send(text="hello")
    await until(lambda: WELCOME in chat.texts("bot"), "the bot's welcome")
    await user.send(text="I need a human please")
    await until(lambda: HANDOFF_TEXT in chat.texts("bot"), "the handoff message")
    (parent,) = await until(agents.parents, "the handoff's parent message in the channel")
    parent_ts = parent["ts"]
    assert parent["metadata"]["event_type"] == "hitl_bridge_session"
    buttons = [e for b in parent["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [("hitl_claim", "Claim"), ("hitl_close", "Close")]
    thread_text = json.dumps(await agents.thread(parent_ts))
    assert "&lt;!here&gt;" not in thread_text and "<!here>" in thread_text
    assert all(said in thread_text for said in ("hello", "I need a human please"))

    # 2. The user's text and image become thread replies: the text with its Botpress message id in metadata, the
    #    image a real file uploaded into the thread.
    user_tokens = [token("u"), token("u")]
    await user.send(text=f"My order never arrived {user_tokens[0]}")
    await user.send(type="image", imageUrl=f"{agents.url}/media/cat.png", title=f"Receipt {user_tokens[1]}")

    async def replies(count: int) -> list[dict[str, Any]] | None:
        found = (await agents.thread(parent_ts))[1:]
        return found if len([m for m in found if "bot_id" in m]) >= count else None

    mine = [m for m in await until(lambda: replies(2), "the user's two messages in the thread") if "bot_id" in m]
    texts = [m for m in mine if user_tokens[0] in json.dumps(m)]
    assert texts and texts[0]["metadata"]["event_type"] == "hitl_bridge_message"
    files = [f for m in mine for f in m.get("files", [])]
    assert [(f["mimetype"], f["size"]) for f in files] == [("image/png", len(CAT_PNG))]

    # 3. Bob claims: the user is told an agent joined, the parent shows Bob. Alice's later click changes nothing
    #    and she alone is told (ephemeral) who has it.
    await agents.click(BOB, parent_ts, "hitl_claim")
    await until(lambda: chat.texts("bot").count(JOINED_TEXT) == 1, "the 'agent joined' message after Bob's claim")
    await until(lambda: _parent_mentions(agents, parent_ts, "Bob Agent"), "the parent showing Bob's claim")
    await agents.click(ALICE, parent_ts, "hitl_claim")
    notices = await until(lambda: _ephemerals(agents, ALICE), "the ephemeral notice to Alice")
    assert "Bob Agent" in notices[0]["text"] and notices[0].get("thread_ts", parent_ts) == parent_ts

    # 4. Bob replies (Slack markup turned into markdown) and sends a file: the user sees both, under Bob's name, the
    #    file at a URL with no token that opens without a Slack login.
    agent_tokens = [token("a"), token("a")]
    reply = await agents.reply(
        BOB, parent_ts, f"Hi <@{ALICE}>, see <https://help.test/refunds|refunds> {agent_tokens[0]}"
    )
    shown = await until(lambda: _agent_text(chat, agent_tokens[0]), "Bob's reply in the chat")
    assert "@Alice Agent" in shown and "[refunds](https://help.test/refunds)" in shown
    assert {m.get("name") for m in chat.messages if m["from"] == "agent"} == {"Bob Agent"}
    assert chat.texts("bot").count(JOINED_TEXT) == 1
    pdf = {"name": f"refund-{agent_tokens[1]}.pdf", "content_base64": base64.b64encode(REFUND_PDF).decode()}
    await agents.reply(BOB, parent_ts, "", file=pdf)
    media = await until(lambda: _agent_media(chat), "Bob's file in the chat")
    url = next(v for k, v in media["payload"].items() if k.endswith("Url"))
    assert BOT_TOKEN not in url and url.startswith(sandbox.url)
    fetched = await http.get(url)
    assert (fetched.status_code, fetched.content) == (200, REFUND_PDF)

    # 5. Slack delivers Bob's reply again (a retry): nothing new. A forged request is refused: nothing created.
    await agents.hook("redeliver", delivery=reply["id"])
    (forged,) = (await agents.hook("reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB,
                                   text=f"forged {token('x')}", forged=True))["deliveries"]  # fmt: skip
    assert [a["status"] for a in forged["answers"]] == [401]

    # 5b. Slack sees the bridge's answers to Bob's next reply too late twice and retries it (X-Slack-Retry-Num 1, 2):
    #     the work was done at the first delivery; the retries create nothing (the token count below says once).
    await agents.hook("config", late_answers=2)
    agent_tokens.append(token("a"))
    (late,) = (await agents.hook("reply", channel=CHANNEL, thread_ts=parent_ts, user=BOB,
                                 text=f"Sorry for the wait {agent_tokens[-1]}"))["deliveries"]  # fmt: skip
    assert [a["acknowledged"] for a in late["answers"]] == [False, False, True]
    await until(lambda: _agent_text(chat, agent_tokens[-1]), "Bob's reply that Slack delivered three times")

    # 6. Slack rate-limits the next post: the adapter waits Retry-After and posts once.
    calls_before = (await agents.get("calls"))["calls"].get("chat.postMessage", 0)
    await agents.hook("rate_limit", method="chat.postMessage", count=1, retry_after=1)
    user_tokens.append(token("u"))
    await user.send(text=f"Still there? {user_tokens[-1]}")
    await until(lambda: _in_channel(agents, user_tokens[-1]), "the user's message after the 429")
    calls = (await agents.get("calls"))["calls"]["chat.postMessage"]
    assert calls - calls_before >= 2, "the 429 was answered to one call and the post repeated"

    # 6b. Slack posts the next message but its answer is lost (the connection closes): the adapter finds the post
    #     by its metadata instead of posting again (the token count below says once).
    await agents.hook("drop", method="chat.postMessage", count=1)
    user_tokens.append(token("u"))
    await user.send(text=f"Hello again {user_tokens[-1]}")
    await until(lambda: _in_channel(agents, user_tokens[-1]), "the user's message whose answer was lost")
    assert (await agents.hook("drop", method="chat.postMessage", count=0))["drops"]["chat.postMessage"] == 0  # used
    await until(lambda: _thread_settled(agents, parent_ts), "the thread to settle after the lost answer")

    # 7. Bob closes: the user is told, the bot is back, the parent has no buttons left.
    await agents.click(BOB, parent_ts, "hitl_close")
    await until(lambda: WELCOME_BACK in chat.texts("bot"), "the bot taking the conversation back")
    assert STOPPED_TEXT in chat.texts("bot")
    await until(lambda: _no_buttons(agents, parent_ts), "the parent without buttons after Close")

    # 8. A new handoff in the same chat is a new thread; the user ends it (/end): a notice in that thread.
    await user.send(text="I need a human again")
    await until(lambda: chat.texts("bot").count(HANDOFF_TEXT) == 2, "the second handoff message")
    parents = await until(lambda: _parents(agents, 2), "the second handoff's parent message")
    second_ts = parents[1]["ts"]
    await user.send(text="/end")
    await until(lambda: _no_buttons(agents, second_ts), "the second parent without buttons after stopHitl")
    assert len(await agents.thread(second_ts)) >= 2  # the stop notice in the thread

    # 9. Nothing lost, nothing duplicated: each user token once in Slack, each agent token once in the chat.
    posted = [json.dumps(m) for m in (await agents.thread(parent_ts))[1:] if _from_end_user(m)]
    assert {t: sum(t in m for m in posted) for t in user_tokens} == dict.fromkeys(user_tokens, 1)
    chat_dump = json.dumps(chat.messages)
    assert {t: chat_dump.count(t) for t in agent_tokens} == dict.fromkeys(agent_tokens, 1)
    assert "forged" not in chat_dump
    # Every delivery but the forged one was acknowledged, the bot's own echoes included (they create nothing).
    deliveries = (await agents.get("deliveries"))["deliveries"]
    refused = [d for d in deliveries if not d["forged"] and not any(a.get("acknowledged") for a in d["answers"])]
    assert refused == [], f"deliveries never acknowledged: {refused}"
    assert any('"bot_id"' in d["body"] for d in deliveries)


def _from_end_user(message: dict[str, Any]) -> bool:
    """A reply the bridge posted for an end-user message: its Botpress message id in metadata, or a file."""
    kind = (message.get("metadata") or {}).get("event_type")
    return "bot_id" in message and (kind == "hitl_bridge_message" or bool(message.get("files")))


async def _thread_settled(agents: SlackAgents, ts: str) -> bool:
    """Whether the thread stopped changing over a short while (a repeat after a lost answer would show by then)."""
    before = len(await agents.thread(ts))
    await asyncio.sleep(0.5)
    return len(await agents.thread(ts)) == before


async def _parent_mentions(agents: SlackAgents, ts: str, name: str) -> bool:
    return name in json.dumps((await agents.thread(ts))[0])


async def _no_buttons(agents: SlackAgents, ts: str) -> bool:
    return '"button"' not in json.dumps((await agents.thread(ts))[0].get("blocks", []))


async def _ephemerals(agents: SlackAgents, user: str) -> list[dict[str, Any]] | None:
    found = [n for n in (await agents.get("ephemerals"))["ephemerals"] if n["user"] == user]
    return found or None


async def _in_channel(agents: SlackAgents, word: str) -> bool:
    return word in await agents.channel_text()


async def _parents(agents: SlackAgents, count: int) -> list[dict[str, Any]] | None:
    found = await agents.parents()
    return found if len(found) >= count else None


def _agent_text(chat: Conversation, word: str) -> str | None:
    return next((text for text in chat.texts("agent") if word in text), None)


def _agent_media(chat: Conversation) -> dict[str, Any] | None:
    return next((m for m in chat.messages if m["from"] == "agent" and m["type"] in ("file", "image")), None)


@pytest.fixture
def fake_slack_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """``hitl-bridge sandbox --adapter slack`` with no configuration: the sandbox runs its own fake Slack."""
    port = free_port()
    argv = [str(hitl_bridge_script()), "sandbox", "--adapter", "slack", "--host", HOST, "--port", str(port),
            "--data-dir", str(tmp_path / "bridge-data")]  # fmt: skip
    process = _started(request, Process("hitl-bridge sandbox", argv, tmp_path / "bridge.log", child_env()))
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/health")
    yield Server(url, process)


@pytest.mark.e2e
async def test_the_sandbox_without_slack_credentials_runs_a_fake_slack_to_play_the_agent_in(
    http: httpx.AsyncClient, fake_slack_sandbox: Server
) -> None:
    sandbox = fake_slack_sandbox
    page = f"{sandbox.url}/sandbox/slack/"
    agents = SlackAgents(http, f"{sandbox.url}/sandbox/slack")
    user = ChatUser(http, sandbox.url)
    await eventually(lambda: page in sandbox.process.log_path.read_text(), "the fake Slack's page in the banner")
    session = await user.start("Jane Doe")
    chat = Conversation(http, sandbox.url, session["conversationId"], "chat")
    try:
        await chat.wait_open()
        await user.send(text="I need a human please")
        (parent,) = await eventually(agents.parents, "the handoff in the fake Slack's channel")
        assert "Claim" in (await http.get(page)).text
        claim = {"ts": parent["ts"], "user": BOB, "action_id": "hitl_claim"}
        assert (await http.post(f"{page}page/click", data=claim)).status_code == 303
        await eventually(lambda: JOINED_TEXT in chat.texts("bot"), "the 'agent joined' message after the page's Claim")
        words = {"ts": parent["ts"], "user": BOB, "text": "Hello from the fake Slack"}
        png = {"file": ("cat.png", CAT_PNG, "image/png")}
        assert (await http.post(f"{page}page/reply", files=png, data=words)).status_code == 303
        await eventually(lambda: _agent_media(chat), "the page's file in the chat")
        assert "Hello from the fake Slack" in json.dumps(chat.messages)
    finally:
        await chat.close()
    assert (await agents.get("violations"))["violations"] == []
