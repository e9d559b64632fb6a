"""The Web API methods of the fake Slack, as functions of the workspace and the call's arguments.

Each takes the arguments (query, form and JSON merged, as Slack reads them) and returns the answer's fields
besides ``"ok": true``, or raises :class:`~.workspace.SlackError`. Only what the adapter uses is implemented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .files import complete_upload, upload_ticket
from .workspace import BOT_ID, BOT_USER_ID, TEAM_ID, SlackError, Workspace

Args = dict[str, Any]
Method = Callable[[Workspace, Args, str], dict[str, Any]]
"""``(workspace, args, base_url)`` -> the answer's fields; ``base_url`` is where the fake is reached."""
_POSTED_FIELDS = ("text", "blocks", "thread_ts", "metadata", "username", "icon_url", "attachments")


def auth_test(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Who the token is."""
    return {"url": "https://fake.slack.test/", "team": "Fake", "user": "hitl-bridge", "team_id": TEAM_ID,
            "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}  # fmt: skip


def conversations_info(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """One channel."""
    return {"channel": workspace.channel(_required(args, "channel")).info()}


def conversations_join(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Join a public channel (a private one needs an invitation, as in Slack)."""
    channel = workspace.channel(_required(args, "channel"))
    if channel.is_private and not channel.is_member:
        raise SlackError("method_not_supported_for_channel_type")
    channel.is_member = True
    return {"channel": channel.info()}


def chat_post_message(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Post as the bot, in the channel or in a thread (``thread_ts``)."""
    channel = _member_channel(workspace, args)
    if not args.get("text") and not args.get("blocks"):
        raise SlackError("no_text")
    posted = {key: _decoded(args[key]) for key in _POSTED_FIELDS if args.get(key) not in (None, "")}
    message = workspace.add_message(channel, {**posted, "bot_id": BOT_ID, "app_id": "AFAKEAPP1", "user": BOT_USER_ID})
    return {"channel": channel.id, "ts": message["ts"], "message": _without_metadata(message)}


def chat_update(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Replace the text and blocks of a message the bot posted."""
    channel = _member_channel(workspace, args)
    message = workspace.message(channel.id, _required(args, "ts"))
    if message.get("bot_id") != BOT_ID:
        raise SlackError("cant_update_message")
    for key in ("text", "blocks", "metadata"):
        if key in args:
            message[key] = _decoded(args[key])
    message["edited"] = {"user": BOT_USER_ID, "ts": workspace.next_ts()}
    return {"channel": channel.id, "ts": message["ts"], "text": message.get("text", "")}


def chat_post_ephemeral(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """A notice only ``user`` sees; kept in ``workspace.ephemerals`` for the test to read."""
    channel = _member_channel(workspace, args)
    workspace.user(_required(args, "user"))
    notice = {"channel": channel.id, "user": args["user"], "text": args.get("text", ""), "ts": workspace.next_ts()}
    if args.get("thread_ts"):
        notice["thread_ts"] = args["thread_ts"]
    workspace.ephemerals.append(notice)
    return {"message_ts": notice["ts"]}


def users_info(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """One user with their profile."""
    return {"user": workspace.user(_required(args, "user"))}


def conversations_history(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Top-level messages, newest first, between ``oldest`` and ``latest``; metadata only when asked for."""
    channel = _readable_channel(workspace, args)
    inclusive = _flag(args, "inclusive")
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")

    def within(ts: str) -> bool:
        value = float(ts)
        return (oldest <= value <= latest) if inclusive else (oldest < value < latest)

    messages = [m for m in reversed(channel.top_level()) if within(m["ts"])]
    return _page(messages, args)


def conversations_replies(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """A thread, the parent first; metadata only when asked for."""
    channel = _readable_channel(workspace, args)
    return _page(channel.thread(_required(args, "ts")), args)


def files_get_upload_url(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """An upload URL on the fake itself (``/upload/<file id>``)."""
    return upload_ticket(workspace, _required(args, "filename"), int(_required(args, "length")), base_url)


def files_complete_upload(workspace: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """Share the uploaded files as one message in ``channel_id`` (a reply when ``thread_ts`` is given)."""
    channel = workspace.channel(_required(args, "channel_id"))
    if not channel.is_member:
        raise SlackError("not_in_channel")
    files = _decoded(_required(args, "files"))
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) and "id" in f for f in files):
        raise SlackError("invalid_arguments")
    return {"files": complete_upload(workspace, channel, files, args.get("thread_ts"), args.get("initial_comment"))}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "users.info": users_info,
    "files.getUploadURLExternal": files_get_upload_url,
    "files.completeUploadExternal": files_complete_upload,
}
"""Every Web API method the fake answers, by name."""


def _required(args: Args, name: str) -> Any:
    value = args.get(name)
    if value in (None, ""):
        raise SlackError("invalid_arguments")
    return value


def _member_channel(workspace: Workspace, args: Args) -> Any:
    channel = workspace.channel(_required(args, "channel"))
    if not channel.is_member:
        raise SlackError("not_in_channel")
    return channel


def _readable_channel(workspace: Workspace, args: Args) -> Any:
    channel = workspace.channel(_required(args, "channel"))
    if channel.is_private and not channel.is_member:
        raise SlackError("channel_not_found")
    return channel


def _decoded(value: Any) -> Any:
    """A form field holding JSON (blocks, metadata, files) decoded; other values as given."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError("invalid_arguments") from None
    return value


def _flag(args: Args, name: str) -> bool:
    return str(args.get(name, "")).lower() in ("true", "1")


def _without_metadata(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "metadata"}


def _page(messages: list[dict[str, Any]], args: Args) -> dict[str, Any]:
    """One page (``limit``, ``cursor`` = the offset); metadata dropped unless ``include_all_metadata``."""
    limit = max(1, min(int(args.get("limit") or 100), 1000))
    start = int(args.get("cursor") or 0)
    page = messages[start : start + limit]
    if not _flag(args, "include_all_metadata"):
        page = [_without_metadata(m) for m in page]
    more = start + limit < len(messages)
    return {
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }
