"""The condensed ``messageHistory``: a transcript rendered as plain text, markdown and HTML, within a size budget.

Pure functions, no I/O. Messages are grouped by author: the bot is labelled ``bot_name``, a user
by ``user_names[userId]`` or else ``user_label``. Each rendering is a sequence of sections (an
author's group of consecutive messages, or the omission marker) separated by ``_Style.sep``.

The budget applies to each rendering independently: the UTF-8 size of ``text``, of ``markdown``
and of ``html`` is each at most ``budget_bytes`` (HTML, the most verbose, is in practice the one
that binds). All three keep the same messages. When the whole history does not fit, the first
messages (up to a quarter of the budget) and then as many of the most recent as fit are kept,
with a ``… N messages omitted …`` marker between them. When not even the last message fits, its
plain text is cut (at a character, never inside a UTF-8 sequence) and marked as truncated.

Sizes are computed exactly and incrementally: a message appended to a run costs its body plus
either the in-group separator (same author as its neighbour) or a section separator and a label.
Messages are rendered on first use, so the omitted middle of a long history costs nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bp_modules.hitl import HistoryMessage, UserSource
from external_adapters.base import Transcript

from ._transcript_format import md_escape, one_line, render_message, render_truncated

__all__ = ["DEFAULT_BUDGET_BYTES", "MAX_NAME_CHARS", "MIN_BUDGET_BYTES", "render_transcript"]

DEFAULT_BUDGET_BYTES = 65536
MIN_BUDGET_BYTES = 1024
MAX_NAME_CHARS = 64
NO_MESSAGES = "No messages."

Cost = tuple[int, int, int]
"""UTF-8 sizes in the text, markdown and HTML renderings, in that order."""
_ZERO: Cost = (0, 0, 0)


@dataclass(frozen=True)
class _Style:
    sep: str
    label_end: str
    msg_sep: str
    label: Callable[[str], str]
    note: Callable[[str], str]


_STYLES = (
    _Style("\n\n", "\n", "\n", lambda name: f"{name}:", lambda note: note),
    _Style("\n\n", "\n\n", "\n\n", lambda name: f"**{md_escape(name)}:**", lambda note: f"_{note}_"),
    _Style(
        "\n",
        "\n",
        "\n",
        lambda name: f"<p><strong>{html.escape(name)}:</strong></p>",
        lambda note: f"<p><em>{html.escape(note)}</em></p>",
    ),
)


def _size(value: str) -> int:
    return len(value.encode("utf-8"))


def _costs(values: Sequence[str]) -> Cost:
    text, markdown, html_ = (_size(value) for value in values)
    return text, markdown, html_


def _plus(a: Cost, b: Cost) -> Cost:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _minus(a: Cost, b: Cost) -> Cost:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _fits(cost: Cost, limit: Cost) -> bool:
    return cost[0] <= limit[0] and cost[1] <= limit[1] and cost[2] <= limit[2]


_SEP = _costs([style.sep for style in _STYLES])
_MSG_SEP = _costs([style.msg_sep for style in _STYLES])


@dataclass(frozen=True)
class _Item:
    """A message with its renderings and the sizes the budget arithmetic needs."""

    message: HistoryMessage
    author: tuple[str, str]
    labels: tuple[str, str, str]
    bodies: tuple[str, str, str]
    plain: str
    body_cost: Cost
    start_cost: Cost

    def step(self, neighbour: _Item | None) -> Cost:
        """The size this message adds to a run next to ``neighbour`` (its predecessor or successor)."""
        joint = _MSG_SEP if neighbour is not None and neighbour.author == self.author else self.start_cost
        return _plus(self.body_cost, joint)


def _name(candidate: str | None, fallback: str) -> str:
    name = one_line(candidate or "") or one_line(fallback) or "User"
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


class _Items:
    """The history's items, rendered on first access: messages that end up omitted are never rendered."""

    def __init__(self, history: Sequence[HistoryMessage], names: Mapping[str, str], bot: str, user: str) -> None:
        self._history, self._names, self._bot, self._user = history, names, bot, user
        self._labels: dict[tuple[str, str], tuple[tuple[str, str, str], Cost]] = {}
        self._cache: dict[int, _Item] = {}

    def __len__(self) -> int:
        return len(self._history)

    def __getitem__(self, index: int) -> _Item:
        if index not in self._cache:
            self._cache[index] = self._render(self._history[index])
        return self._cache[index]

    def run(self, start: int, stop: int) -> list[_Item]:
        """The items ``start`` to ``stop`` (exclusive)."""
        return [self[index] for index in range(start, stop)]

    def truncate_last(self, limit: Cost) -> _Item:
        """Replace the last item by its truncation to ``limit`` (its label not included) and return it."""
        last = len(self) - 1
        self._cache[last] = _truncate(self[last], limit)
        return self._cache[last]

    def _label(self, author: tuple[str, str]) -> tuple[tuple[str, str, str], Cost]:
        """The author's three labels, and what starting a section with them costs (the same for each message)."""
        if author not in self._labels:
            kind, user_id = author
            name = _name(self._names.get(user_id), self._user) if kind == "user" else _name(self._bot, "Bot")
            labels = (_STYLES[0].label(name), _STYLES[1].label(name), _STYLES[2].label(name))
            start = _costs([s.sep + label + s.label_end for s, label in zip(_STYLES, labels, strict=True)])
            self._labels[author] = (labels, start)
        return self._labels[author]

    def _render(self, message: HistoryMessage) -> _Item:
        source = message.source
        author = ("user", source.user_id) if isinstance(source, UserSource) else ("bot", "")
        labels, start = self._label(author)
        rendering = render_message(message)
        bodies = (rendering.text, rendering.markdown, rendering.html)
        return _Item(message, author, labels, bodies, rendering.plain, _costs(bodies), start)


def _grow_head(items: _Items, head_end: int, stop: int, cost: Cost, limit: Cost) -> tuple[int, Cost]:
    while head_end < stop:
        grown = _plus(cost, items[head_end].step(items[head_end - 1] if head_end else None))
        if not _fits(grown, limit):
            break
        head_end, cost = head_end + 1, grown
    return head_end, cost


def _grow_tail(items: _Items, tail_start: int, stop: int, cost: Cost, limit: Cost) -> tuple[int, Cost]:
    while tail_start > stop:
        neighbour = items[tail_start] if tail_start < len(items) else None
        grown = _plus(cost, items[tail_start - 1].step(neighbour))
        if not _fits(grown, limit):
            break
        tail_start, cost = tail_start - 1, grown
    return tail_start, cost


def _truncate(item: _Item, limit: Cost) -> _Item:
    """``item`` cut to the longest plain-text prefix whose three renderings fit ``limit``."""
    low, high = 0, min(len(item.plain), limit[0])
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(_costs(render_truncated(item.plain, middle)), limit):
            low = middle
        else:
            high = middle - 1
    bodies = render_truncated(item.plain, low)
    return replace(item, bodies=bodies, body_cost=_costs(bodies))


def _marker(omitted: int) -> str:
    return f"… {omitted} message{'' if omitted == 1 else 's'} omitted …"


def _select(items: _Items, budget: Cost) -> tuple[int, int]:
    """Return ``(head_end, tail_start)``: keep ``items[:head_end]`` and ``items[tail_start:]``.

    When not even the last message fits, it is truncated in ``items``.
    """
    count = len(items)
    # Every section pays a separator but the first one: runs may total the budget plus one separator. A run costs
    # the same grown from either end; from the tail, the messages this check renders are mostly the ones kept.
    tail_start, _ = _grow_tail(items, count, 0, _ZERO, _plus(budget, _SEP))
    if tail_start == 0:
        return count, count
    marker = _costs([s.sep + s.note(_marker(count)) for s in _STYLES])  # upper bound: most digits, plural
    available = _minus(_plus(budget, _SEP), marker)
    head_end, head = _grow_head(items, 0, count, _ZERO, (available[0] // 4, available[1] // 4, available[2] // 4))
    tail_start, tail = _grow_tail(items, count, head_end, _ZERO, _minus(available, head))
    if tail_start == count:
        last = items.truncate_last(_minus(_minus(available, head), items[count - 1].start_cost))
        tail_start, tail = count - 1, last.step(None)
    head_end, _ = _grow_head(items, head_end, tail_start, head, _minus(available, tail))
    return head_end, tail_start


def _render_run(run: Sequence[_Item], index: int) -> str:
    style, parts, previous = _STYLES[index], [], None
    for item in run:
        if previous is not None and previous.author == item.author:
            parts.append(style.msg_sep)
        else:
            parts.append(style.sep + item.labels[index] + style.label_end)
        parts.append(item.bodies[index])
        previous = item
    return "".join(parts)


def _render(index: int, head: Sequence[_Item], omitted: int, tail: Sequence[_Item]) -> str:
    style = _STYLES[index]
    if omitted == 0:
        document = _render_run([*head, *tail], index)
    else:
        document = _render_run(head, index) + style.sep + style.note(_marker(omitted)) + _render_run(tail, index)
    return document[len(style.sep) :]


def render_transcript(
    history: Sequence[HistoryMessage],
    *,
    user_names: Mapping[str, str] | None = None,
    bot_name: str = "Bot",
    user_label: str = "User",
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
) -> Transcript:
    """Render ``history`` as a transcript whose text, markdown and HTML each fit in ``budget_bytes`` (UTF-8).

    ``user_names`` maps Botpress user ids to display names; unknown users are labelled ``user_label``.
    ``Transcript.messages`` holds the messages kept (a truncated one in its original form) and
    ``Transcript.omitted`` how many were left out. Raises :class:`ValueError` when ``budget_bytes``
    is below :data:`MIN_BUDGET_BYTES`.
    """
    if budget_bytes < MIN_BUDGET_BYTES:
        raise ValueError(f"budget_bytes must be at least {MIN_BUDGET_BYTES}, got {budget_bytes}")
    if not history:
        text, markdown, html_ = (style.note(NO_MESSAGES) for style in _STYLES)
        return Transcript(text=text, markdown=markdown, html=html_)
    items = _Items(history, user_names or {}, bot_name, user_label)
    head_end, tail_start = _select(items, (budget_bytes, budget_bytes, budget_bytes))
    head, tail, omitted = items.run(0, head_end), items.run(tail_start, len(items)), tail_start - head_end
    text, markdown, html_ = (_render(index, head, omitted, tail) for index in range(3))
    kept = [item.message for item in (*head, *tail)]
    return Transcript(text=text, markdown=markdown, html=html_, messages=kept, omitted=omitted, omitted_at=len(head))
