"""The essentials of Slack's documented request shapes, checked on every Web API call the fake receives.

A call that breaks them is a contract violation: recorded (``GET /_test/violations``) and answered as Slack
would (``invalid_arguments``, ``msg_too_long``...). The tests may add stricter checks (JSON Schemas) through
:class:`~.server.FakeSlack`'s ``checkers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Call = dict[str, Any]
"""``{"method", "http_method", "content_type", "authorization", "args"}`` of one Web API call."""
Checker = Callable[[Call], list[str]]
TS = re.compile(r"^\d{10}\.\d{6}$")
EVENT_TYPE = re.compile(r"^[a-zA-Z0-9_]{1,255}$")
MAX_BLOCKS, MAX_SECTION_TEXT, MAX_TEXT = 50, 3000, 40_000
WRITES = frozenset(
    {"conversations.join", "chat.postMessage", "chat.update", "chat.postEphemeral", "files.completeUploadExternal"}
)
BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def essentials(call: Call) -> list[str]:
    """Every way the call breaks the documented essentials (empty when it keeps them)."""
    method, args = call["method"], call["args"]
    problems = _transport(call)
    if method in ("chat.postMessage", "chat.update"):
        problems += _message(args)
    if method in ("chat.update", "conversations.replies") and not TS.match(str(args.get("ts", ""))):
        problems.append(f"ts {args.get('ts')!r} is not a Slack ts")
    if args.get("thread_ts") not in (None, "") and not TS.match(str(args["thread_ts"])):
        problems.append(f"thread_ts {args['thread_ts']!r} is not a Slack ts")
    if method == "files.completeUploadExternal" and args.get("thread_ts") and not args.get("channel_id"):
        problems.append("thread_ts without channel_id")
    return [f"{method}: {problem}" for problem in problems]


def _transport(call: Call) -> list[str]:
    problems = []
    if not str(call.get("authorization") or "").startswith("Bearer xoxb-") and "token" not in call["args"]:
        problems.append("no bot token (Authorization: Bearer xoxb-...)")
    if call["method"] in WRITES and call["http_method"] != "POST":
        problems.append(f"a write sent as {call['http_method']}")
    if call["http_method"] == "POST" and not str(call.get("content_type") or "").startswith(BODY_TYPES):
        problems.append(f"content type {call.get('content_type')!r}")
    return problems


def _message(args: dict[str, Any]) -> list[str]:
    problems = []
    text, blocks = args.get("text"), args.get("blocks")
    if not isinstance(args.get("channel"), str):
        problems.append("channel missing")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        problems.append(f"text is not a string of at most {MAX_TEXT} characters")
    if blocks is not None:
        problems += _blocks(blocks)
    if "metadata" in args:
        problems += _metadata(args["metadata"])
    for name in ("username", "icon_url"):
        if name in args and not isinstance(args[name], str):
            problems.append(f"{name} is not a string")
    return problems


def _blocks(blocks: Any) -> list[str]:
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return [f"blocks is not a list of at most {MAX_BLOCKS}"]
    problems = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"block {index} has no type")
            continue
        text = block.get("text")
        if block["type"] == "section" and isinstance(text, dict) and len(str(text.get("text", ""))) > MAX_SECTION_TEXT:
            problems.append(f"block {index}: section text over {MAX_SECTION_TEXT} characters")
    return problems


def _metadata(metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return ["metadata is not an object"]
    if not EVENT_TYPE.match(str(metadata.get("event_type", ""))) or not isinstance(metadata.get("event_payload"), dict):
        return ["metadata needs an event_type (letters, digits, _) and an event_payload object"]
    return []
