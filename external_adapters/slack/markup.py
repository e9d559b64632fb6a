"""Slack mrkdwn, as agents type it, turned into the markdown Botpress messages carry.

Slack's text is mrkdwn with its special characters escaped (``&amp;`` ``&lt;`` ``&gt;``) and its references in
angle brackets: ``<@U123>`` (a user), ``<#C123|general>`` (a channel), ``<!here>`` (a broadcast),
``<https://x|label>`` (a link). References are rewritten first and kept aside, so that the emphasis rules never
touch a URL; code spans and blocks are kept as they are (only unescaped). User names come from the caller
(:func:`user_ids` says which ones it needs), since looking them up is an API call.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_CODE = re.compile(r"```[\s\S]*?```|`[^`\n]+`")
_REFERENCE = re.compile(r"<([^<>\n]+)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>\n]*)?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def user_ids(text: str) -> list[str]:
    """The Slack user ids ``text`` mentions (``<@U123>``), in order, once each: the names to look up."""
    return list(dict.fromkeys(_USER.findall(text)))


def to_markdown(text: str, names: Mapping[str, str] | None = None) -> str:
    """``text`` (Slack mrkdwn) as markdown; ``names`` maps user ids to the names mentions show (else the id)."""
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    protected = _CODE.sub(lambda match: keep(html.unescape(match.group(0))), text)
    protected = _REFERENCE.sub(lambda match: keep(_reference(match.group(1), names or {})), protected)
    converted = _STRIKE.sub(r"~~\1~~", _BOLD.sub(r"**\1**", protected))
    converted = html.unescape(converted)
    return _PLACEHOLDER.sub(lambda match: kept[int(match.group(1))], converted)


def _reference(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    label = html.unescape(label)
    if target.startswith("@"):
        return "@" + (names.get(target[1:]) or label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _special(target[1:], label)
    url = html.unescape(target)
    return f"[{label}]({url})" if label and label != url else url


def _special(command: str, label: str) -> str:
    """``<!here>``, ``<!subteam^S1|@team>``, ``<!date^...|fallback>``: the broadcast, else the label Slack gives."""
    name = command.split("^", 1)[0]
    if name in _BROADCASTS:
        return _BROADCASTS[name]
    return label or f"@{name}"
