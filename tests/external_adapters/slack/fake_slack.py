"""A stateful Slack workspace behind a respx router: channels, threads, message metadata, files, users.

Answers as the Web API does (HTTP 200 with ``"ok": false`` and an error code for a refusal; 429 with
``Retry-After`` when a method is told to rate-limit), so that the adapter's lost-answer checks read back what
really was posted. The contract-checked router (:mod:`tests.contracts.slack`) validates every request first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx

from tests.contracts.slack import SLACK_TEST_URL, UPLOAD_HOST

TOKEN = "xoxb-test-token-1"
BOT_USER_ID = "UBOT00001"
BOT_ID = "BBOT00001"
CHANNEL_ID = "C0SUPPORT"
Message = dict[str, Any]


@dataclass
class FakeChannel:
    """A channel: its top-level messages (oldest first) and each thread's replies."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    messages: list[Message] = field(default_factory=list)
    replies: dict[str, list[Message]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_private": self.is_private,
            "is_member": self.is_member,
            "is_archived": self.is_archived,
        }


@dataclass
class FakeSlack:
    """One workspace. ``limit(method, retry_after, times)`` makes the next calls of a method answer 429."""

    channels: dict[str, FakeChannel] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, list[float]] = field(default_factory=dict)
    share_later: bool = False
    """completeUploadExternal answers without ``shares`` (Slack shares asynchronously), as it may."""
    page_size: int = 1000
    _clock: int = 1_733_100_000_000_100

    def __post_init__(self) -> None:
        self.channels.setdefault(CHANNEL_ID, FakeChannel(CHANNEL_ID, "support"))
        self.users.setdefault(
            "UAGENT001",
            {"id": "UAGENT001", "name": "bob", "profile": {"real_name": "Bob Agent", "display_name": "bob"}},
        )

    def install(self, router: respx.MockRouter) -> FakeSlack:
        router.route(url__startswith=SLACK_TEST_URL + "/").mock(side_effect=self._api)
        router.route(method="POST", url__startswith=UPLOAD_HOST + "/upload/").mock(side_effect=self._upload)
        return self

    def limit(self, method: str, retry_after: float, times: int = 1) -> None:
        self.limits.setdefault(method, []).extend([retry_after] * times)

    # --- what tests look at -------------------------------------------------------------------------------------

    def parent(self, session_id: str) -> Message:
        channel_id, ts = session_id.split(":")
        return next(m for m in self.channels[channel_id].messages if m["ts"] == ts)

    def thread(self, session_id: str) -> list[Message]:
        """The thread's replies, oldest first (not the parent)."""
        channel_id, ts = session_id.split(":")
        return list(self.channels[channel_id].replies.get(ts, []))

    def posts(self) -> list[Message]:
        """Every message of every channel, parents and replies."""
        found: list[Message] = []
        for channel in self.channels.values():
            found += channel.messages
            for replies in channel.replies.values():
                found += replies
        return found

    # --- the Web API ----------------------------------------------------------------------------------------------

    def _api(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        waits = self.limits.get(method)
        if waits:
            wait = waits.pop(0)
            return httpx.Response(429, headers={"Retry-After": f"{wait:g}"}, json={"ok": False, "error": "ratelimited"})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _error("invalid_auth")
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        try:
            return httpx.Response(200, json={"ok": True, **handler(_arguments(request))})
        except SlackRefusal as refusal:
            return _error(str(refusal))

    def _next_ts(self) -> str:
        self._clock += 100
        return f"{self._clock // 1_000_000}.{self._clock % 1_000_000:06d}"

    def _channel(self, channel_id: Any) -> FakeChannel:
        channel = self.channels.get(str(channel_id))
        if channel is None:
            raise SlackRefusal("channel_not_found")
        return channel

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://acme.slack.com/", "team": "Acme", "team_id": "T0ACME", "user": "bridge",
                "user_id": BOT_USER_ID, "bot_id": BOT_ID}  # fmt: skip

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel(args["channel"]).info()}

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if channel.is_private:
            raise SlackRefusal("method_not_supported_for_channel_type")
        channel.is_member = True
        return {"channel": channel.info()}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if not channel.is_member:
            raise SlackRefusal("not_in_channel")
        message: Message = {"type": "message", "ts": self._next_ts(), "user": BOT_USER_ID, "bot_id": BOT_ID}
        message.update({k: v for k, v in args.items() if k in ("text", "blocks", "metadata", "username", "icon_url")})
        self._place(channel, message, args.get("thread_ts"))
        return {"channel": channel.id, "ts": message["ts"], "message": _visible(message, True)}

    def _place(self, channel: FakeChannel, message: Message, thread_ts: Any) -> None:
        if thread_ts is None:
            channel.messages.append(message)
            return
        if not any(m["ts"] == thread_ts for m in channel.messages):
            raise SlackRefusal("thread_not_found")
        message["thread_ts"] = thread_ts
        channel.replies.setdefault(str(thread_ts), []).append(message)

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        message = next((m for m in channel.messages if m["ts"] == args["ts"]), None)
        if message is None:
            raise SlackRefusal("message_not_found")
        message.update({k: v for k, v in args.items() if k in ("text", "blocks")})
        return {"channel": channel.id, "ts": message["ts"], "text": message.get("text", "")}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self._channel(args["channel"])
        self.ephemerals.append(dict(args))
        return {"message_ts": self._next_ts()}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["user"])
        if user is None:
            raise SlackRefusal("user_not_found")
        return {"user": user}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"]), "bytes": None}
        return {"upload_url": f"{UPLOAD_HOST}/upload/v1/{file_id}", "file_id": file_id}

    def _upload(self, request: httpx.Request) -> httpx.Response:
        file_id = request.url.path.rsplit("/", 1)[-1]
        stored = self.files.get(file_id)
        if stored is None:
            return httpx.Response(404, text="unknown upload")
        stored.update(bytes=request.content, mimetype=request.headers.get("content-type"))
        return httpx.Response(200, text=f"OK - {len(request.content)}")

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel_id"])
        shared = []
        for item in json.loads(args["files"]):
            stored = self.files.get(item["id"])
            if stored is None or stored["bytes"] is None or stored.get("completed"):
                raise SlackRefusal("file_not_found" if stored is None or stored["bytes"] is None else "already_shared")
            stored.update(completed=True, title=item.get("title") or stored["name"])
            shared.append(stored)
        described = [_described(f, channel.id) for f in shared]
        message: Message = {"type": "message", "ts": self._next_ts(), "user": BOT_USER_ID, "bot_id": BOT_ID}
        message.update(subtype="file_share", text=args.get("initial_comment", ""), files=described)
        self._place(channel, message, args.get("thread_ts"))
        shares = (
            {}
            if self.share_later
            else {"public": {channel.id: [{"ts": message["ts"], "thread_ts": args.get("thread_ts")}]}}
        )
        return {"files": [{**f, "shares": shares} for f in described]}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        newest_first = [m for m in reversed(channel.messages) if "latest" not in args or m["ts"] <= args["latest"]]
        return self._page(newest_first, args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        parent = next((m for m in channel.messages if m["ts"] == args["ts"]), None)
        if parent is None:
            raise SlackRefusal("thread_not_found")
        return self._page([parent, *channel.replies.get(args["ts"], [])], args)

    def _page(self, messages: list[Message], args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        size = min(int(args.get("limit") or 100), self.page_size)
        page = messages[start : start + size]
        more = start + size < len(messages)
        metadata = args.get("include_all_metadata") == "true"
        return {
            "messages": [_visible(m, metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }


class SlackRefusal(Exception):
    """An ``ok: false`` answer, with its error code."""


def _error(code: str) -> httpx.Response:
    return httpx.Response(200, json={"ok": False, "error": code})


def _arguments(request: httpx.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.url.params.multi_items())
    if request.headers.get("content-type", "").startswith("application/json"):
        loaded: dict[str, Any] = json.loads(request.content or b"{}")
        return loaded
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def _visible(message: Message, metadata: bool) -> Message:
    """What Slack answers for a message: its metadata only when asked for (``include_all_metadata``)."""
    return {k: v for k, v in message.items() if metadata or k != "metadata"}


def _described(stored: dict[str, Any], channel_id: str) -> dict[str, Any]:
    return {
        "id": stored["id"],
        "name": stored["name"],
        "title": stored.get("title") or stored["name"],
        "mimetype": stored.get("mimetype") or "application/octet-stream",
        "size": len(stored["bytes"] or b""),
        "url_private": f"{UPLOAD_HOST}/files-pri/T0ACME-{stored['id']}/{stored['name']}",
    }
