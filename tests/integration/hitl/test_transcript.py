"""The condensed messageHistory transcript: every message type, grouping, escaping and the size budget."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from bp_modules.hitl import HistoryMessage
from external_adapters.base import Transcript
from integration.hitl.transcript import MAX_NAME_CHARS, MIN_BUDGET_BYTES, render_transcript

BOT: dict[str, str] = {"type": "bot"}


def user(user_id: str = "user_1") -> dict[str, str]:
    return {"type": "user", "userId": user_id}


def msg(type_: str, payload: dict[str, Any], source: dict[str, str] = BOT) -> HistoryMessage:
    return HistoryMessage.model_validate({"source": source, "type": type_, "payload": payload})


def text(body: str, source: dict[str, str] = BOT) -> HistoryMessage:
    return msg("text", {"text": body}, source)


def sizes(transcript: Transcript) -> list[int]:
    return [len(rendering.encode("utf-8")) for rendering in (transcript.text, transcript.markdown, transcript.html)]


def marker_count(rendering: str) -> int | None:
    found = re.findall(r"… (\d+) messages? omitted …", rendering)
    assert len(found) <= 1
    return int(found[0]) if found else None


CARD = {
    "title": "Premium plan",
    "subtitle": "Billed monthly",
    "imageUrl": "https://cdn.example.com/plan.png",
    "actions": [
        {"action": "url", "label": "Buy", "value": "https://shop.example.com/buy"},
        {"action": "postback", "label": "Details", "value": "plan_details"},
        {"action": "say", "label": "Talk to sales", "value": "sales please"},
    ],
}

# type, payload, fragments expected in (text, markdown, html)
CASES: list[tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("text", {"text": "Where is my order?"}, ("  Where is my order?",), ("Where is my order?",),
     ("<p>Where is my order?</p>",)),
    ("markdown", {"markdown": "**Bold** and [docs](https://docs.example.com)"},
     ("**Bold** and [docs](https://docs.example.com)",), ("**Bold** and [docs](https://docs.example.com)",),
     ("<p>**Bold** and [docs](https://docs.example.com)</p>",)),
    ("image", {"imageUrl": "https://cdn.example.com/cat.png", "title": "Cat"},
     ("Image: Cat <https://cdn.example.com/cat.png>",), ("[Image: Cat](https://cdn.example.com/cat.png)",),
     ('<a href="https://cdn.example.com/cat.png" rel="noopener noreferrer">Image: Cat</a>',)),
    ("image", {"imageUrl": "https://cdn.example.com/cat.png"},
     ("Image <https://cdn.example.com/cat.png>",), ("[Image](https://cdn.example.com/cat.png)",),
     (">Image</a>",)),
    ("audio", {"audioUrl": "https://cdn.example.com/a.mp3", "title": "Voice note"},
     ("Audio: Voice note <https://cdn.example.com/a.mp3>",), ("[Audio: Voice note](https://cdn.example.com/a.mp3)",),
     ('<a href="https://cdn.example.com/a.mp3" rel="noopener noreferrer">Audio: Voice note</a>',)),
    ("video", {"videoUrl": "https://cdn.example.com/v.mp4", "title": "Demo"},
     ("Video: Demo <https://cdn.example.com/v.mp4>",), ("[Video: Demo](https://cdn.example.com/v.mp4)",),
     ('<a href="https://cdn.example.com/v.mp4" rel="noopener noreferrer">Video: Demo</a>',)),
    ("file", {"fileUrl": "https://cdn.example.com/invoice.pdf", "title": "Invoice"},
     ("File: Invoice <https://cdn.example.com/invoice.pdf>",),
     ("[File: Invoice](https://cdn.example.com/invoice.pdf)",),
     ('<a href="https://cdn.example.com/invoice.pdf" rel="noopener noreferrer">File: Invoice</a>',)),
    ("location", {"latitude": 48.8584, "longitude": 2.2945, "address": "Champ de Mars, Paris", "title": "Eiffel Tower"},
     ("Location: Eiffel Tower", "- Address: Champ de Mars, Paris", "48.8584° N, 2.2945° E (48.8584, 2.2945)",
      "OpenStreetMap <https://www.openstreetmap.org/?mlat=48.8584&mlon=2.2945#map=16/48.8584/2.2945>"),
     ("Location: Eiffel Tower", "- Address: Champ de Mars, Paris",
      "[OpenStreetMap](https://www.openstreetmap.org/?mlat=48.8584&mlon=2.2945#map=16/48.8584/2.2945)"),
     ("<p>Location: Eiffel Tower</p>", "<li>Address: Champ de Mars, Paris</li>",
      'href="https://www.openstreetmap.org/?mlat=48.8584&amp;mlon=2.2945#map=16/48.8584/2.2945"')),
    ("location", {"latitude": 1.5, "longitude": 2, "address": "Somewhere"},
     ("Location: Somewhere\n    - 1.5° N, 2° E",), ("Location: Somewhere\n- 1.5° N, 2° E",),
     ("<p>Location: Somewhere</p>",)),
    ("card", CARD,
     ("Card: Premium plan — Billed monthly", "- Image <https://cdn.example.com/plan.png>",
      "- Button: Buy → https://shop.example.com/buy", "- Button: Details → plan_details (postback)",
      "- Button: Talk to sales → sales please (say)"),
     ("Card: Premium plan — Billed monthly", "- [Image](https://cdn.example.com/plan.png)",
      "- Button: Buy → [https://shop.example.com/buy](https://shop.example.com/buy)",
      "- Button: Details → plan\\_details (postback)"),
     ("<p>Card: Premium plan — Billed monthly</p>",
      '<li><a href="https://cdn.example.com/plan.png" rel="noopener noreferrer">Image</a></li>',
      '<li>Button: Buy → <a href="https://shop.example.com/buy" rel="noopener noreferrer">',
      "<li>Button: Details → plan_details (postback)</li>")),
    ("carousel", {"items": [CARD, {"title": "Basic", "actions": []}]},
     ("Carousel: 2 cards", "Card 1/2: Premium plan — Billed monthly", "Card 2/2: Basic"),
     ("Carousel: 2 cards", "Card 1/2: Premium plan", "Card 2/2: Basic"),
     ("<p>Carousel: 2 cards</p>", "<p>Card 1/2: Premium plan — Billed monthly</p>", "<p>Card 2/2: Basic</p>")),
    ("carousel", {"items": [{"title": "Only", "actions": []}]}, ("Carousel: 1 card\n  Card 1/1: Only",), (), ()),
    ("choice",
     {"text": "Pick a colour", "options": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "Blue"}]},
     ("Choice: Pick a colour\n    - Red → red\n    - Blue",), ("Choice: Pick a colour\n- Red → red\n- Blue",),
     ("<p>Choice: Pick a colour</p>\n<ul><li>Red → red</li><li>Blue</li></ul>",)),
    ("dropdown", {"text": "Country", "options": [{"label": "France", "value": "fr"}]},
     ("Dropdown: Country\n    - France → fr",), ("Dropdown: Country\n- France → fr",),
     ("<p>Dropdown: Country</p>\n<ul><li>France → fr</li></ul>",)),
    ("bloc", {"items": [
        {"type": "text", "payload": {"text": "Here is the map"}},
        {"type": "markdown", "payload": {"markdown": "_soon_"}},
        {"type": "image", "payload": {"imageUrl": "https://cdn.example.com/map.png"}},
        {"type": "location", "payload": {"latitude": -1, "longitude": -2}},
    ]},
     ("  Here is the map\n  _soon_\n  Image <https://cdn.example.com/map.png>\n  Location\n    - 1° S, 2° W (-1, -2)",),
     ("Here is the map\n\n_soon_\n\n[Image](https://cdn.example.com/map.png)\n\nLocation\n- 1° S, 2° W",),
     ("<p>Here is the map</p>\n<p>_soon_</p>\n<p><a href=",)),
    ("bloc", {"items": []}, ("Bloc (empty)",), ("Bloc (empty)",), ("<p>Bloc (empty)</p>",)),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "payload", "in_text", "in_markdown", "in_html"), CASES)
def test_each_message_type_renders_readably(
    type_: str,
    payload: dict[str, Any],
    in_text: tuple[str, ...],
    in_markdown: tuple[str, ...],
    in_html: tuple[str, ...],
) -> None:
    transcript = render_transcript([msg(type_, payload)])

    assert transcript.text.startswith("Bot:\n")
    assert transcript.markdown.startswith("**Bot:**\n\n")
    assert transcript.html.startswith("<p><strong>Bot:</strong></p>\n")
    for fragment in in_text:
        assert fragment in transcript.text
    for fragment in in_markdown:
        assert fragment in transcript.markdown
    for fragment in in_html:
        assert fragment in transcript.html
    assert (transcript.omitted, transcript.messages) == (0, [msg(type_, payload)])


def test_every_one_of_the_twelve_types_is_covered() -> None:
    assert {case[0] for case in CASES} == {
        "text", "markdown", "image", "audio", "video", "file", "location", "card", "carousel", "choice", "dropdown",
        "bloc",
    }  # fmt: skip


def test_consecutive_messages_by_one_author_share_one_label() -> None:
    history = [
        text("Hi, I am the bot."),
        text("How can I help?"),
        text("My parcel is late.", user("user_1")),
        text("Order 42.", user("user_1")),
        text("Me too!", user("user_2")),
        text("Let me get a human."),
    ]

    transcript = render_transcript(history, user_names={"user_1": "Alice"}, bot_name="Helper", user_label="Customer")

    assert transcript.text == (
        "Helper:\n  Hi, I am the bot.\n  How can I help?\n\n"
        "Alice:\n  My parcel is late.\n  Order 42.\n\n"
        "Customer:\n  Me too!\n\n"
        "Helper:\n  Let me get a human."
    )
    assert transcript.markdown == (
        "**Helper:**\n\nHi, I am the bot.\n\nHow can I help?\n\n"
        "**Alice:**\n\nMy parcel is late.\n\nOrder 42.\n\n"
        "**Customer:**\n\nMe too!\n\n"
        "**Helper:**\n\nLet me get a human."
    )
    assert transcript.html == (
        "<p><strong>Helper:</strong></p>\n<p>Hi, I am the bot.</p>\n<p>How can I help?</p>\n"
        "<p><strong>Alice:</strong></p>\n<p>My parcel is late.</p>\n<p>Order 42.</p>\n"
        "<p><strong>Customer:</strong></p>\n<p>Me too!</p>\n"
        "<p><strong>Helper:</strong></p>\n<p>Let me get a human.</p>"
    )


def test_two_unknown_users_in_a_row_get_separate_groups() -> None:
    transcript = render_transcript([text("a", user("user_1")), text("b", user("user_2"))])

    assert transcript.text == "User:\n  a\n\nUser:\n  b"


def test_long_and_multiline_names_are_shortened_to_one_line() -> None:
    transcript = render_transcript([text("hi", user("u"))], user_names={"u": "A\nB " + "x" * 200})

    label = transcript.text.split("\n")[0]
    assert label.startswith("A B xxx")
    assert label.endswith("…:")
    assert len(label) == MAX_NAME_CHARS + 1


def test_empty_history_says_there_are_no_messages() -> None:
    transcript = render_transcript([])

    assert (transcript.text, transcript.markdown, transcript.html) == (
        "No messages.",
        "_No messages._",
        "<p><em>No messages.</em></p>",
    )
    assert (transcript.messages, transcript.omitted) == ([], 0)


def test_multiline_text_keeps_its_lines() -> None:
    transcript = render_transcript([text("one\ntwo\r\n\nthree")])

    assert transcript.text == "Bot:\n  one\n  two\n\n  three"
    assert transcript.markdown == "**Bot:**\n\none  \ntwo  \n  \nthree"
    assert transcript.html == "<p><strong>Bot:</strong></p>\n<p>one<br>\ntwo<br>\n<br>\nthree</p>"


# -- escaping and unsafe URLs ---------------------------------------------------------------------


def test_user_content_is_escaped_in_html_and_markdown() -> None:
    history = [
        text('<script>alert("x")</script> & *bold* [link](https://evil.example.com)', user("u")),
        msg("choice", {"text": "<b>Pick</b>", "options": [{"label": "<i>x</i>", "value": "1. - #"}]}),
    ]

    transcript = render_transcript(history, user_names={"u": "<img src=x onerror=alert(1)>"}, bot_name="B*t")

    assert "<script>" not in transcript.html
    assert "<img" not in transcript.html
    assert "<b>" not in transcript.html
    assert "<i>" not in transcript.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in transcript.html
    assert "<strong>&lt;img src=x onerror=alert(1)&gt;:</strong>" in transcript.html
    assert r"\<script\>alert(\"x\")" not in transcript.markdown  # quotes need no markdown escape
    assert r'\<script\>alert("x")\</script\> \& \*bold\* \[link\](https://evil.example.com)' in transcript.markdown
    assert r"**\<img src=x onerror=alert(1)\>:**" in transcript.markdown
    assert r"**B\*t:**" in transcript.markdown
    assert r"- \<i\>x\</i\> → 1. - \#" in transcript.markdown
    # Plain text is never interpreted, so it is kept as written.
    assert '<script>alert("x")</script> & *bold*' in transcript.text


UNSAFE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example.com/x.png",
    "https://exa mple.com/x.png",
    "file:///etc/passwd",
    "https:///no-host",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_only_http_urls_become_links(url: str) -> None:
    history = [
        msg("image", {"imageUrl": url, "title": "pic"}),
        msg("file", {"fileUrl": url}),
        msg("card", {"title": "c", "imageUrl": url, "actions": [{"action": "url", "label": "go", "value": url}]}),
        msg("bloc", {"items": [{"type": "video", "payload": {"videoUrl": url}}]}),
    ]

    transcript = render_transcript(history)

    assert "href" not in transcript.html
    assert "](" not in transcript.markdown
    assert "<" not in transcript.markdown.replace("\\<", "")  # no autolink, no raw HTML
    assert "Image: pic" in transcript.text


def test_quotes_in_a_web_url_cannot_break_out_of_the_href() -> None:
    url = 'https://example.com/x.png"onmouseover="alert(1)'

    transcript = render_transcript([msg("image", {"imageUrl": url})])

    assert 'href="https://example.com/x.png&quot;onmouseover=&quot;alert(1)"' in transcript.html
    assert '[Image](https://example.com/x.png"onmouseover="alert%281%29)' in transcript.markdown


def test_parentheses_in_a_web_url_do_not_end_the_markdown_link() -> None:
    transcript = render_transcript([msg("file", {"fileUrl": "https://example.com/a_(1).pdf", "title": "A [draft]"})])

    assert r"[File: A \[draft\]](https://example.com/a_%281%29.pdf)" in transcript.markdown


def test_control_characters_are_dropped() -> None:
    transcript = render_transcript([text("a\x00b\x1bc\x7fd")])

    assert transcript.text == "Bot:\n  abcd"


def test_an_unclosed_code_fence_in_markdown_is_closed() -> None:
    transcript = render_transcript([msg("markdown", {"markdown": "```python\nprint(1)"}), text("after", user())])

    assert transcript.markdown == "**Bot:**\n\n```python\nprint(1)\n```\n\n**User:**\n\nafter"


# -- coordinates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected", "map_query"),
    [
        (-33.8688, 151.2093, "33.8688° S, 151.2093° E (-33.8688, 151.2093)", "mlat=-33.8688&mlon=151.2093"),
        (40.7128, -74.006, "40.7128° N, 74.006° W (40.7128, -74.006)", "mlat=40.7128&mlon=-74.006"),
        (-22.9068, -43.1729, "22.9068° S, 43.1729° W (-22.9068, -43.1729)", "mlat=-22.9068&mlon=-43.1729"),
        (0, 0, "0° N, 0° E (0, 0)", "mlat=0&mlon=0"),
        (-0.0, -0.0000001, "0° N, 0° E (0, 0)", "mlat=0&mlon=0"),
        (-90, 180, "90° S, 180° E (-90, 180)", "mlat=-90&mlon=180"),
    ],
)
def test_coordinates_carry_the_hemisphere_of_their_sign(
    latitude: float, longitude: float, expected: str, map_query: str
) -> None:
    transcript = render_transcript([msg("location", {"latitude": latitude, "longitude": longitude})])

    assert expected in transcript.text
    assert expected in transcript.html
    assert f"https://www.openstreetmap.org/?{map_query}#map=16/" in transcript.text


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [(float("nan"), 1.0, "Coordinates unavailable"), (1.0, float("inf"), "Coordinates unavailable"),
     (123.0, 45.0, "123° N, 45° E (123, 45)")],
)  # fmt: skip
def test_impossible_coordinates_get_no_map_link(latitude: float, longitude: float, expected: str) -> None:
    location = HistoryMessage(
        source={"type": "bot"}, type="location", payload={"latitude": latitude, "longitude": longitude}
    )

    transcript = render_transcript([location])

    assert expected in transcript.text
    assert "openstreetmap" not in transcript.text


# -- size budget -----------------------------------------------------------------------------------


def numbered(count: int, width: int = 40) -> list[HistoryMessage]:
    """Messages whose bodies are unique and easy to find: ``message 007 ....``, authors alternating by three."""
    return [
        text(f"message {number:03d} ".ljust(width, "."), user("user_1") if number // 3 % 2 else BOT)
        for number in range(count)
    ]


def full_size(history: list[HistoryMessage]) -> int:
    return max(sizes(render_transcript(history, budget_bytes=10**9)))


def assert_consistent(history: list[HistoryMessage], transcript: Transcript, budget: int) -> None:
    assert max(sizes(transcript)) <= budget
    assert transcript.omitted + len(transcript.messages) == len(history)
    kept = len(transcript.messages)
    assert any(transcript.messages == history[:head] + history[head + transcript.omitted :] for head in range(kept + 1))
    head = transcript.omitted_at
    assert transcript.messages == history[:head] + history[head + transcript.omitted :]
    for rendering in (transcript.text, transcript.markdown, transcript.html):
        assert marker_count(rendering) == (transcript.omitted or None)


def test_a_history_that_fits_exactly_is_kept_whole() -> None:
    history = numbered(60)
    budget = full_size(history)

    transcript = render_transcript(history, budget_bytes=budget)

    assert budget > MIN_BUDGET_BYTES
    assert max(sizes(transcript)) == budget
    assert (transcript.omitted, transcript.messages) == (0, history)
    assert "omitted" not in transcript.text


def test_one_byte_over_budget_omits_one_message_between_first_and_last() -> None:
    history = numbered(60, width=400)
    budget = full_size(history) - 1

    transcript = render_transcript(history, budget_bytes=budget)

    assert transcript.omitted == 1
    assert_consistent(history, transcript, budget)
    assert "\n\n… 1 message omitted …\n\n" in transcript.text
    assert "\n\n_… 1 message omitted …_\n\n" in transcript.markdown
    assert "\n<p><em>… 1 message omitted …</em></p>\n" in transcript.html
    dropped = next(h for h in history if h not in transcript.messages)
    assert isinstance(dropped.payload, type(history[0].payload))
    assert dropped.payload.model_dump()["text"][:11] not in transcript.text


def test_omitted_messages_are_counted_between_the_first_and_the_most_recent() -> None:
    history = numbered(500)
    budget = 4096

    transcript = render_transcript(history, budget_bytes=budget)

    assert_consistent(history, transcript, budget)
    assert transcript.omitted > 400
    assert f"… {transcript.omitted} messages omitted …" in transcript.text
    assert transcript.messages[0] == history[0]
    assert transcript.messages[-1] == history[-1]
    from_first_half = sum(1 for kept in transcript.messages if history.index(kept) < 250)
    assert 0 < from_first_half < len(transcript.messages)  # both ends are represented
    assert (
        transcript.text.index("message 000") < transcript.text.index("omitted") < transcript.text.index("message 499")
    )


def test_the_group_label_is_repeated_after_the_marker() -> None:
    history = [text(f"bot line {n:03d} " + "." * 60) for n in range(200)]

    transcript = render_transcript(history, budget_bytes=2048)

    assert transcript.omitted > 0
    assert transcript.text.count("Bot:\n") == 2
    assert transcript.text.startswith("Bot:\n  bot line 000")


def test_the_default_budget_holds_for_a_long_mixed_history() -> None:
    history = [case_message for _ in range(400) for case_message in (msg(c[0], c[1]) for c in CASES)]

    transcript = render_transcript(history)

    assert_consistent(history, transcript, 65536)
    assert transcript.omitted > 0


def test_an_enormous_single_message_is_truncated_without_splitting_characters() -> None:
    body = "é😀x" * 100_000
    history = [text(body, user())]

    transcript = render_transcript(history, budget_bytes=MIN_BUDGET_BYTES)

    assert max(sizes(transcript)) <= MIN_BUDGET_BYTES
    assert (transcript.omitted, transcript.messages) == (0, history)
    match = re.fullmatch(
        r"User:\n  ((?:é😀x)*(?:é😀|é)?)\n  … message truncated: (\d+) more characters …", transcript.text
    )
    assert match is not None
    assert len(match[1]) + int(match[2]) == len(body)
    assert "… message truncated:" in transcript.markdown
    assert "… message truncated:" in transcript.html


def test_an_enormous_last_message_is_truncated_after_the_first_ones() -> None:
    history = [text("Hello", user()), text("Let me check."), text("<&>" * 50_000, user())]

    transcript = render_transcript(history, budget_bytes=3000)

    assert_consistent(history, transcript, 3000)
    assert transcript.messages == history
    assert transcript.text.startswith("User:\n  Hello\n\nBot:\n  Let me check.\n\nUser:\n  <&><&>")
    assert "&lt;&amp;&gt;" in transcript.html
    assert "message truncated" in transcript.html


def test_a_truncated_last_message_leaves_room_for_its_label() -> None:
    history = [text(f"{number}") for number in range(100)] + [text("z" * 100_000, user())]

    transcript = render_transcript(history, budget_bytes=MIN_BUDGET_BYTES)

    assert_consistent(history, transcript, MIN_BUDGET_BYTES)
    assert transcript.messages[-1] == history[-1]
    assert transcript.omitted > 0


def test_an_enormous_first_message_is_omitted_not_truncated() -> None:
    history = [text("x" * 100_000), text("Thanks", user())]

    transcript = render_transcript(history, budget_bytes=2000)

    assert (transcript.omitted, transcript.messages) == (1, history[1:])
    assert transcript.text == "… 1 message omitted …\n\nUser:\n  Thanks"


def test_a_budget_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="budget_bytes must be at least 1024, got 1023"):
        render_transcript([text("hi")], budget_bytes=MIN_BUDGET_BYTES - 1)


# -- property --------------------------------------------------------------------------------------

_WORDS = st.text(st.sampled_from('ab é😀<>&"*_[]#-\n\t\x00'), min_size=1, max_size=12)
_BIG = st.builds(lambda word, times: word * times, _WORDS, st.integers(1, 3000))
_STRING = st.one_of(_WORDS, _WORDS, _BIG)
_URL = st.one_of(st.sampled_from(["https://example.com/a.png", "javascript:alert(1)", "http://x.io/(1)"]), _WORDS)
_TITLED = {"title": st.none() | _STRING}
_OPTION = st.fixed_dictionaries({"label": _STRING, "value": _STRING})
_CARD = st.fixed_dictionaries(
    {"title": _STRING, "actions": st.lists(st.fixed_dictionaries(
        {"action": st.sampled_from(["url", "postback", "say"]), "label": _STRING, "value": _URL}), max_size=3)},
    optional={"subtitle": _STRING, "imageUrl": _URL},
)  # fmt: skip
_LOCATION = st.fixed_dictionaries(
    {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}, optional={"address": _STRING, "title": _STRING}
)
_SIMPLE = {
    "text": st.fixed_dictionaries({"text": _STRING}),
    "markdown": st.fixed_dictionaries({"markdown": _STRING}),
    "image": st.fixed_dictionaries({"imageUrl": _URL}, optional={"title": _STRING}),
    "audio": st.fixed_dictionaries({"audioUrl": _URL}, optional={"title": _STRING}),
    "video": st.fixed_dictionaries({"videoUrl": _URL}, optional={"title": _STRING}),
    "file": st.fixed_dictionaries({"fileUrl": _URL}, optional={"title": _STRING}),
    "location": _LOCATION,
}
_PAYLOADS = {
    **_SIMPLE,
    "card": _CARD,
    "carousel": st.fixed_dictionaries({"items": st.lists(_CARD, max_size=3)}),
    "choice": st.fixed_dictionaries({"text": _STRING, "options": st.lists(_OPTION, max_size=4)}),
    "dropdown": st.fixed_dictionaries({"text": _STRING, "options": st.lists(_OPTION, max_size=4)}),
    "bloc": st.fixed_dictionaries({"items": st.lists(st.one_of(
        [st.fixed_dictionaries({"type": st.just(t), "payload": p}) for t, p in _SIMPLE.items()]), max_size=4)}),
}  # fmt: skip
_SOURCE = st.sampled_from([BOT, user("u1"), user("u2"), user("u3")])
_MESSAGE = st.sampled_from(sorted(_PAYLOADS)).flatmap(
    lambda type_: st.builds(lambda source, payload: msg(type_, payload, source), _SOURCE, _PAYLOADS[type_])
)
_NAMES = st.dictionaries(st.sampled_from(["u1", "u2"]), st.text(st.sampled_from('"&<😀 \n'), max_size=300))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    history=st.lists(_MESSAGE, max_size=40),
    names=_NAMES,
    bot_name=st.text(st.sampled_from('"&<😀B'), max_size=200),
    budget=st.one_of(st.just(MIN_BUDGET_BYTES), st.integers(MIN_BUDGET_BYTES, 20_000)),
)
def test_every_rendering_stays_within_the_budget(
    history: list[HistoryMessage], names: dict[str, str], bot_name: str, budget: int
) -> None:
    transcript = render_transcript(history, user_names=names, bot_name=bot_name, budget_bytes=budget)

    assert_consistent(history, transcript, budget)
    event("messages omitted" if transcript.omitted else "all messages kept")
    event("a message truncated" if "… message truncated:" in transcript.text else "nothing truncated")
    for rendering in (transcript.text, transcript.markdown, transcript.html):
        assert rendering.strip()
        assert 'href="javascript' not in rendering.lower()
