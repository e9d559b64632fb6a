"""A thin async client of the Slack Web API: one method per Web API method the adapter uses.

Every call goes through :func:`external_adapters.http_retry.send_with_retries` on ``env.http`` (so respx sees it),
with the bot token as a bearer. Failures become the adapter error tree (:mod:`.responses`) with a one-line
summary, never a token or a body.

Each write says whether it is idempotent. One that is not (``chat.postMessage``, ``chat.postEphemeral``,
``files.completeUploadExternal``) is repeated only when its request surely never reached Slack or Slack answered
429; a lost answer raises :class:`~external_adapters.errors.OutcomeUnknownError`, and the adapter looks the post up
by its message metadata before posting again (:mod:`.posts`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ExternalRequestError, OutcomeUnknownError, UnavailableError
from ..http_retry import RetryPolicy, outcome_unknown, send_with_retries
from .models import AuthTest, Channel, Message, Page, Posted, SlackFile, SlackUser, UploadTicket
from .responses import NOT_REPEATED, SERVICE, error_for, json_object, parse, slack_error

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
DEFAULT_POLICY = RetryPolicy()
"""429 and 502 are retried on any call (Slack did not act), other failures only on reads and idempotent writes."""
PAGE_LIMIT = 200
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})


class SlackClient:
    """Calls one Slack workspace's Web API with one bot token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        bot_token: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Sleep | None = None,
        file_hosts: frozenset[str] | None = SLACK_FILE_HOSTS,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = bot_token
        self._policy = policy
        self._sleep = sleep
        self._file_hosts = file_hosts

    async def auth_test(self) -> AuthTest:
        """``auth.test``: who the token is (a read)."""
        return parse(AuthTest, await self._call("auth.test", idempotent=True), "auth.test")

    async def conversations_info(self, channel_id: str) -> Channel:
        """``conversations.info`` of one channel (a read)."""
        data = await self._call("conversations.info", idempotent=True, params={"channel": channel_id})
        return parse(Channel, data.get("channel"), "conversations.info")

    async def conversations_join(self, channel_id: str) -> Channel:
        """``conversations.join``: idempotent (joining a channel the bot is in changes nothing)."""
        data = await self._call("conversations.join", idempotent=True, body={"channel": channel_id})
        return parse(Channel, data.get("channel"), "conversations.join")

    async def post_message(self, message: dict[str, Any]) -> Posted:
        """``chat.postMessage`` with ``message`` (channel, text, blocks, thread_ts, metadata...). Not idempotent:
        a lost answer raises :class:`OutcomeUnknownError`; the caller looks the post up by its metadata."""
        return parse(Posted, await self._call("chat.postMessage", idempotent=False, body=message), "chat.postMessage")

    async def update_message(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        """``chat.update``: replace a message's text and blocks. Idempotent (the same content twice is one edit)."""
        body = {"channel": channel_id, "ts": ts, "text": text, "blocks": blocks}
        return parse(Posted, await self._call("chat.update", idempotent=True, body=body), "chat.update")

    async def post_ephemeral(self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None) -> str:
        """``chat.postEphemeral`` to one user; returns its ``message_ts``. Not idempotent, and not looked up (an
        ephemeral notice cannot be read back): a lost answer raises :class:`OutcomeUnknownError`; a missed notice
        is harmless, a repeated one is noise."""
        body: dict[str, Any] = {"channel": channel_id, "user": user_id, "text": text}
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
        data = await self._call("chat.postEphemeral", idempotent=False, body=body)
        return str(data.get("message_ts") or "")

    async def users_info(self, user_id: str) -> SlackUser:
        """``users.info`` (a read)."""
        data = await self._call("users.info", idempotent=True, params={"user": user_id})
        return parse(SlackUser, data.get("user"), "users.info")

    async def get_upload_url(self, filename: str, length: int) -> UploadTicket:
        """``files.getUploadURLExternal``: idempotent in effect (an upload URL never completed expires unseen)."""
        form = {"filename": filename, "length": str(length)}
        data = await self._call("files.getUploadURLExternal", idempotent=True, form=form)
        return parse(UploadTicket, data, "files.getUploadURLExternal")

    async def upload_bytes(self, upload_url: str, content: bytes, content_type: str) -> None:
        """POST the file's bytes to the ``upload_url`` Slack gave: idempotent (the same bytes to the same file id)."""
        if self._file_hosts is not None and urlsplit(upload_url).hostname not in self._file_hosts:
            raise ExternalRequestError(SERVICE, "POST", "upload", None, "upload URL outside Slack's file hosts")
        request = self._http.build_request("POST", upload_url, content=content, headers={"Content-Type": content_type})
        response = await self._send(request, "upload", repeatable=True)
        if response.status_code >= 400:
            raise error_for(response, "upload", repeatable=True)

    async def complete_upload(
        self, file_id: str, title: str, channel_id: str, thread_ts: str, initial_comment: str | None = None
    ) -> list[SlackFile]:
        """``files.completeUploadExternal``: share the uploaded file in the thread. Not idempotent (it shares a
        message): a lost answer raises :class:`OutcomeUnknownError`; the caller looks the file's message up."""
        form = {
            "files": json.dumps([{"id": file_id, "title": title}]),
            "channel_id": channel_id,
            "thread_ts": thread_ts,
        }
        if initial_comment:
            form["initial_comment"] = initial_comment
        data = await self._call("files.completeUploadExternal", idempotent=False, form=form)
        return [parse(SlackFile, item, "files.completeUploadExternal") for item in data.get("files") or []]

    async def conversations_history(
        self, channel_id: str, *, oldest: str | None = None, latest: str | None = None, limit: int = PAGE_LIMIT
    ) -> Page:
        """``conversations.history`` with every message's metadata, newest first, between ``oldest`` and
        ``latest`` (inclusive) (a read)."""
        params = {"channel": channel_id, "include_all_metadata": "true", "inclusive": "true", "limit": str(limit)}
        params.update({k: v for k, v in (("oldest", oldest), ("latest", latest)) if v is not None})
        return _page(await self._call("conversations.history", idempotent=True, params=params), "conversations.history")

    async def conversations_replies(
        self, channel_id: str, thread_ts: str, *, cursor: str | None = None, limit: int = PAGE_LIMIT
    ) -> Page:
        """``conversations.replies``: one page of a thread (the parent first), with every message's metadata."""
        params = {"channel": channel_id, "ts": thread_ts, "include_all_metadata": "true", "limit": str(limit)}
        if cursor:
            params["cursor"] = cursor
        return _page(await self._call("conversations.replies", idempotent=True, params=params), "conversations.replies")

    async def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        """Every message of a thread, the parent first, page after page."""
        messages: list[Message] = []
        cursor: str | None = None
        while True:
            page = await self.conversations_replies(channel_id, thread_ts, cursor=cursor)
            messages.extend(page.messages)
            if not page.has_more or not page.next_cursor:
                return messages
            cursor = page.next_cursor

    async def download(self, url_private: str, max_bytes: int) -> tuple[bytes, str]:
        """The bytes and MIME type of a Slack file's ``url_private``, fetched with the bot token (a read).

        The token goes only to Slack's file hosts (any host when the client was made with ``file_hosts=None``:
        an allowed vendor base URL); a file larger than ``max_bytes`` is refused without reading it whole.
        """
        if self._file_hosts is not None and urlsplit(url_private).hostname not in self._file_hosts:
            raise ExternalRequestError(SERVICE, "GET", "file", None, "file URL outside Slack's file hosts")
        request = self._http.build_request("GET", url_private, headers=self._auth())
        response = await self._send(request, "file", repeatable=True, stream=True)
        try:
            if response.status_code >= 400:
                raise error_for(response, "file", repeatable=True)
            content = bytearray()
            async for chunk in response.aiter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise ExternalRequestError(SERVICE, "GET", "file", None, f"file over {max_bytes} bytes")
            return bytes(content), response.headers.get("content-type", "application/octet-stream")
        finally:
            await response.aclose()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _call(
        self,
        method: str,
        *,
        idempotent: bool,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Web API call: a GET with ``params`` for reads, else a POST of JSON ``body`` or of ``form``."""
        url = f"{self._base_url}/{method}"
        headers = {**self._auth(), "Accept": "application/json"}
        if params is not None:
            request = self._http.build_request("GET", url, params=params, headers=headers)
        elif form is not None:
            request = self._http.build_request("POST", url, data=form, headers=headers)
        else:
            request = self._http.build_request("POST", url, json=body or {}, headers=headers)
        response = await self._send(request, method, repeatable=idempotent)
        if response.status_code >= 300:
            raise error_for(response, method, repeatable=idempotent)
        data = json_object(response, method)
        if data.get("ok") is not True:
            raise slack_error(response, str(data.get("error") or "unknown_error"), method, repeatable=idempotent)
        return data

    async def _send(
        self, request: httpx.Request, method: str, *, repeatable: bool, stream: bool = False
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._http.send(request, stream=stream)
            if stream and response.status_code >= 400:
                await response.aread()  # an error body is small; reading it frees the connection for a retry
            return response

        try:
            response = await send_with_retries(send, self._policy, idempotent=repeatable, sleep=self._sleep)
        except httpx.TransportError as exc:
            if not repeatable and outcome_unknown(exc):
                raise OutcomeUnknownError(
                    SERVICE, request.method, method, None, NOT_REPEATED.format(type(exc).__name__)
                ) from None
            raise UnavailableError(SERVICE, request.method, method, None, type(exc).__name__) from None
        log.debug("slack %s -> %s", method, response.status_code)
        return response


def _page(data: dict[str, Any], method: str) -> Page:
    cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
    return parse(Page, {**data, "next_cursor": cursor}, method)
