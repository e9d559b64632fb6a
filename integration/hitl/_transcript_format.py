"""One message of the transcript: a neutral block model and its plain text, markdown and HTML renderings.

Private to :mod:`integration.hitl.transcript`. Every string taken from a payload goes through
:func:`clean` first, so the renderings hold no control characters and no lone surrogates and
their UTF-8 size can always be measured.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bp_modules.hitl import (
    AnyPayload,
    AudioPayload,
    CardPayload,
    CarouselPayload,
    ChoicePayload,
    DropdownPayload,
    FilePayload,
    HistoryMessage,
    ImagePayload,
    LocationPayload,
    MarkdownPayload,
    TextPayload,
    VideoPayload,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MD_SPECIAL = str.maketrans({char: "\\" + char for char in "\\`*_[]<>#|~&"})
"""Each character markdown could read as syntax, escaped with a backslash (one pass, in C)."""
_MD_LINE_START = re.compile(r"^([ \t]*)([-+*]|\d{1,9}[.)]|=+|-+)(?=[ \t]|$)", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
_MD_URL_UNSAFE = str.maketrans({"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C"})
_DIRTY = re.compile(r"[\r\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""Any character :func:`clean` changes: most strings have none, and are returned as they are."""
_SPACE = re.compile(r"\s")
"""Whitespace as ``str.isspace`` defines it (the ``re`` module uses the same Unicode table), found in C."""

MediaPayload = ImagePayload | AudioPayload | VideoPayload | FilePayload


@dataclass(frozen=True)
class Link:
    """A labelled URL; it becomes a real link only when :func:`is_web_url` accepts it."""

    label: str
    url: str


Span = str | Link
Line = tuple[Span, ...]


@dataclass(frozen=True)
class Verbatim:
    """A text payload (``markdown=False``) or a markdown payload, kept as its author wrote it."""

    content: str
    markdown: bool = False


@dataclass(frozen=True)
class Entry:
    """A structured message (media, location, card, choice...): a head line and list items."""

    head: Line
    items: tuple[Line, ...] = ()


Block = Verbatim | Entry


@dataclass(frozen=True)
class MessageRendering:
    """One message rendered three ways; ``plain`` is the unindented text, the source for truncation."""

    plain: str
    text: str
    markdown: str
    html: str


def clean(value: str) -> str:
    """Normalise newlines, drop control characters (except tab and newline), replace lone surrogates."""
    if _DIRTY.search(value) is None:
        return value
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _SURROGATE.sub("\ufffd", value)


def one_line(value: str) -> str:
    """Clean ``value`` and collapse its whitespace, for titles, labels and names."""
    return " ".join(clean(value).split())


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL without whitespace: the only URLs that become links."""
    if _SPACE.search(url) is not None:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def md_escape(value: str) -> str:
    """Escape ``value`` so that markdown shows it literally (no emphasis, link, HTML or list)."""
    escaped = value.translate(_MD_SPECIAL)
    return _MD_LINE_START.sub(lambda match: f"{match[1]}{match[2][:-1]}\\{match[2][-1]}", escaped)


def indent(text: str) -> str:
    """Indent every non-empty line by two spaces (message bodies under their author's label)."""
    return "\n".join(f"  {line}" if line else "" for line in text.split("\n"))


# -- payload -> blocks ------------------------------------------------------------------------


def message_blocks(message: HistoryMessage) -> tuple[Block, ...]:
    """The blocks of one ``messageHistory`` element."""
    return payload_blocks(message.payload, dropdown=message.type == "dropdown")


def payload_blocks(payload: AnyPayload, *, dropdown: bool = False) -> tuple[Block, ...]:
    """The blocks of a payload of any of the 12 types (bloc items included)."""
    if isinstance(payload, TextPayload):
        return (Verbatim(clean(payload.text)),)
    if isinstance(payload, MarkdownPayload):
        return (Verbatim(clean(payload.markdown), markdown=True),)
    if isinstance(payload, ImagePayload | AudioPayload | VideoPayload | FilePayload):
        return (Entry((_media_link(payload),)),)
    if isinstance(payload, LocationPayload):
        return (_location(payload),)
    if isinstance(payload, CardPayload):
        return (_card(payload, "Card"),)
    if isinstance(payload, CarouselPayload):
        return _carousel(payload)
    if isinstance(payload, ChoicePayload):
        dropdown = dropdown or isinstance(payload, DropdownPayload)
        return (_choice(payload, "Dropdown" if dropdown else "Choice"),)
    blocks = tuple(block for item in payload.items for block in payload_blocks(item.payload))
    return blocks or (Entry(("Bloc (empty)",)),)


def _titled(kind: str, title: str | None) -> str:
    title = one_line(title or "")
    return f"{kind}: {title}" if title else kind


def _media_link(payload: MediaPayload) -> Link:
    if isinstance(payload, ImagePayload):
        return Link(_titled("Image", payload.title), clean(payload.image_url))
    if isinstance(payload, AudioPayload):
        return Link(_titled("Audio", payload.title), clean(payload.audio_url))
    if isinstance(payload, VideoPayload):
        return Link(_titled("Video", payload.title), clean(payload.video_url))
    return Link(_titled("File", payload.title), clean(payload.file_url))


def _decimal(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _hemispheres(latitude: float, longitude: float) -> str:
    lat, lon = _decimal(latitude), _decimal(longitude)
    north_south = "S" if lat.startswith("-") else "N"
    east_west = "W" if lon.startswith("-") else "E"
    return f"{lat.lstrip('-')}° {north_south}, {lon.lstrip('-')}° {east_west} ({lat}, {lon})"


def _location(payload: LocationPayload) -> Entry:
    lat, lon = payload.latitude, payload.longitude
    title, address = one_line(payload.title or ""), one_line(payload.address or "")
    items: list[Line] = [(f"Address: {address}",)] if title and address else []
    if not (math.isfinite(lat) and math.isfinite(lon)):
        items.append(("Coordinates unavailable",))
    elif abs(lat) <= 90 and abs(lon) <= 180:
        map_url = f"https://www.openstreetmap.org/?mlat={_decimal(lat)}&mlon={_decimal(lon)}#map=16/{_decimal(lat)}/{_decimal(lon)}"
        items.append((_hemispheres(lat, lon), " — ", Link("OpenStreetMap", map_url)))
    else:
        items.append((_hemispheres(lat, lon),))
    return Entry((_titled("Location", title or address),), tuple(items))


def _card(payload: CardPayload, kind: str) -> Entry:
    head = _titled(kind, payload.title)
    if payload.subtitle:
        head = f"{head} — {one_line(payload.subtitle)}"
    items: list[Line] = [(Link("Image", clean(payload.image_url)),)] if payload.image_url else []
    for action in payload.actions:
        label, value = one_line(action.label), clean(action.value).strip()
        if action.action == "url":
            items.append((f"Button: {label} → ", Link(value, value)))
        else:
            items.append((f"Button: {label} → {one_line(value)} ({action.action})",))
    return Entry((head,), tuple(items))


def _carousel(payload: CarouselPayload) -> tuple[Block, ...]:
    count = len(payload.items)
    head = Entry((f"Carousel: {count} card{'' if count == 1 else 's'}",))
    cards = (_card(card, f"Card {number}/{count}") for number, card in enumerate(payload.items, 1))
    return (head, *cards)


def _choice(payload: ChoicePayload, kind: str) -> Entry:
    options: list[Line] = []
    for option in payload.options:
        label, value = one_line(option.label), one_line(option.value)
        options.append((label if value == label else f"{label} → {value}",))
    return Entry((_titled(kind, payload.text),), tuple(options))


# -- blocks -> renderings -----------------------------------------------------------------------


def _text_span(span: Span) -> str:
    if isinstance(span, str):
        return span
    return span.url if span.label == span.url else f"{span.label} <{span.url}>"


def _md_span(span: Span) -> str:
    if isinstance(span, Link) and is_web_url(span.url):
        url = span.url.translate(_MD_URL_UNSAFE)
        return f"[{md_escape(span.label)}]({url})"
    return md_escape(_text_span(span))


def _html_span(span: Span) -> str:
    if isinstance(span, Link) and is_web_url(span.url):
        return f'<a href="{html.escape(span.url)}" rel="noopener noreferrer">{html.escape(span.label)}</a>'
    return html.escape(_text_span(span))


def _line(line: Line, span: Callable[[Span], str]) -> str:
    return "".join([span(part) for part in line])


def text_block(block: Block) -> str:
    """Plain text: verbatim content, or the head line and ``  - `` items."""
    if isinstance(block, Verbatim):
        return block.content
    return "\n".join([_line(block.head, _text_span), *(f"  - {_line(item, _text_span)}" for item in block.items)])


def markdown_block(block: Block) -> str:
    """Markdown: markdown payloads as written; everything else escaped so that it shows literally."""
    if isinstance(block, Verbatim):
        return _close_fences(block.content) if block.markdown else md_escape(block.content).replace("\n", "  \n")
    return "\n".join([_line(block.head, _md_span), *(f"- {_line(item, _md_span)}" for item in block.items)])


def html_block(block: Block) -> str:
    """HTML: all content escaped; only http(s) URLs become ``<a href>``."""
    if isinstance(block, Verbatim):
        return "<p>" + html.escape(block.content).replace("\n", "<br>\n") + "</p>"
    head = f"<p>{_line(block.head, _html_span)}</p>"
    if not block.items:
        return head
    return head + "\n<ul>" + "".join(f"<li>{_line(item, _html_span)}</li>" for item in block.items) + "</ul>"


def _close_fences(markdown: str) -> str:
    """Close a code fence left open, so that one message cannot swallow the rest of the transcript."""
    open_fence: str | None = None
    for match in _FENCE.finditer(markdown):
        fence = match[1]
        if open_fence is None:
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence):
            open_fence = None
    return markdown if open_fence is None else f"{markdown}\n{open_fence}"


def render_message(message: HistoryMessage) -> MessageRendering:
    """Render one message; blocks are separated by a line (text, HTML) or a paragraph (markdown)."""
    if type(message.payload) is TextPayload:  # most of a history: its one block rendered without the generic path
        return _render_verbatim(Verbatim(clean(message.payload.text)))
    blocks = message_blocks(message)
    plain = "\n".join(text_block(block) for block in blocks)
    markdown = "\n\n".join(markdown_block(block) for block in blocks)
    return MessageRendering(plain, indent(plain), markdown, "\n".join(html_block(block) for block in blocks))


def _render_verbatim(block: Verbatim) -> MessageRendering:
    plain = text_block(block)
    return MessageRendering(plain, indent(plain), markdown_block(block), html_block(block))


def render_truncated(plain: str, keep: int) -> tuple[str, str, str]:
    """The first ``keep`` characters of a message's plain text and a truncation note, rendered three ways."""
    note = f"… message truncated: {len(plain) - keep} more characters …"
    block = Verbatim(f"{plain[:keep]}\n{note}" if keep else note)
    return indent(text_block(block)), markdown_block(block), html_block(block)
