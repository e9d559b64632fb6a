"""A page of the fake Slack where a person plays the agent: the support channel's threads, a reply box (with a
file), the messages' buttons, and the ephemeral notices. Each action goes through the same code as the
``/_test/`` hooks, so it reaches the app as a signed delivery. Plain HTML forms, no script: reload to see news."""

from __future__ import annotations

import base64
import html
from typing import Any

from aiohttp import web

from .files import file_content
from .hooks import TestHooks
from .workspace import DEFAULT_CHANNEL_ID, SlackError

_STYLE = (
    "body{font:15px system-ui;margin:2em;max-width:60em}.thread{border:1px solid #ccc;border-radius:6px;"
    "padding:.6em 1em;margin:1em 0}.reply{margin:.3em 0 .3em 1.5em}.who{font-weight:600}.eph{color:#777}"
)


class AgentPage:
    """``GET /`` shows the channel; ``POST /page/reply`` and ``/page/click`` act; ``/page/files/<id>`` shows a file."""

    def __init__(self, hooks: TestHooks, channel_id: str = DEFAULT_CHANNEL_ID) -> None:
        self.hooks = hooks
        self.channel_id = channel_id

    def routes(self) -> list[web.RouteDef]:
        """The page's routes."""
        return [
            web.get("/", self.show),
            web.post("/page/reply", self.reply),
            web.post("/page/click", self.click),
            web.get("/page/files/{file_id}", self.file),
        ]

    async def show(self, request: web.Request) -> web.Response:
        """The channel, newest thread first."""
        workspace = self.hooks.fake.workspace
        channel = workspace.channel(self.channel_id)
        people = [user for user in workspace.users.values() if not user["is_bot"]]
        threads = [
            self._thread(parent, channel.thread(parent["ts"]), people) for parent in reversed(channel.top_level())
        ]
        notices = "".join(
            f"<p class=eph>only {_e(workspace.users[n['user']]['real_name'])} sees: {_e(n['text'])}</p>"
            for n in workspace.ephemerals[-5:]
        )
        body = "".join(threads) or "<p>No handoff yet: ask the sandbox's bot for a human.</p>"
        page = (
            f"<!doctype html><title>Fake Slack</title><style>{_STYLE}</style><h1>#{_e(channel.name)} (fake Slack)</h1>"
            f"<p><a href=''>Reload</a> to see new messages.</p>{notices}{body}"
        )
        return web.Response(text=page, content_type="text/html")

    def _thread(self, parent: dict[str, Any], messages: list[dict[str, Any]], people: list[dict[str, Any]]) -> str:
        replies = "".join(f"<div class=reply>{self._message(m)}</div>" for m in messages[1:])
        who = "".join(f"<option value='{_e(p['id'])}'>{_e(p['real_name'])}</option>" for p in people)
        buttons = "".join(
            f"<button name=action_id value='{_e(b['action_id'])}'>{_e(b['text']['text'])}</button>"
            for b in _buttons(parent)
        )
        ts = _e(parent["ts"])
        return (
            f"<div class=thread>{self._message(parent)}"
            f"<form method=post action='page/click'><input type=hidden name=ts value='{ts}'>as <select name=user>{who}"
            f"</select> {buttons}</form>{replies}"
            "<form method=post action='page/reply' enctype='multipart/form-data'>"
            f"<input type=hidden name=ts value='{ts}'>"
            f"<select name=user>{who}</select> <input name=text size=50 placeholder='Reply in thread'> "
            "<input type=file name=file> <button>Send</button></form></div>"
        )

    def _message(self, message: dict[str, Any]) -> str:
        users = self.hooks.fake.workspace.users
        author = message.get("username") or users.get(message.get("user", ""), {}).get("real_name", "?")
        texts = [b["text"]["text"] for b in message.get("blocks") or [] if isinstance(b.get("text"), dict)]
        text = "<br>".join(_e(t) for t in texts) or _e(message.get("text", ""))
        files = "".join(f" <a href='page/files/{_e(f['id'])}'>📎 {_e(f['name'])}</a>" for f in message.get("files", []))
        return f"<span class=who>{_e(author)}</span>: {text}{files}"

    async def reply(self, request: web.Request) -> web.Response:
        """Post the form's reply in the thread, as the chosen person."""
        form = await request.post()
        body: dict[str, Any] = {"channel": self.channel_id, "thread_ts": form["ts"], "user": form["user"]}
        body["text"] = str(form.get("text") or "")
        upload = form.get("file")
        if isinstance(upload, web.FileField) and upload.filename:
            content = upload.file.read()
            body["file"] = {"name": upload.filename, "content_base64": base64.b64encode(content).decode()}
        await self.hooks.reply(body)
        raise web.HTTPSeeOther("../")  # from /page/<action> back to the channel

    async def click(self, request: web.Request) -> web.Response:
        """Click the chosen button of the parent message, as the chosen person."""
        form = await request.post()
        body = {"channel": self.channel_id, "ts": form["ts"], "user": form["user"], "action_id": form["action_id"]}
        await self.hooks.click(body)
        raise web.HTTPSeeOther("../")  # from /page/<action> back to the channel

    async def file(self, request: web.Request) -> web.Response:
        """A shared file, for the person looking at the page."""
        try:
            content, mimetype = file_content(self.hooks.fake.workspace, request.match_info["file_id"])
        except SlackError:
            raise web.HTTPNotFound() from None
        return web.Response(body=content, content_type=mimetype)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks") or []
        for element in block.get("elements") or []
        if isinstance(element, dict) and element.get("type") == "button"
    ]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
