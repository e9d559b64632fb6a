"""Hand-run benchmark of ``render_transcript`` (not a test): mixed histories of 20, 200 and 5000 messages.

Run from the repository root::

    PYTHONPATH=. /work/venv/bin/python bench/bench_transcript.py

It prints, per history size, the best and median wall time over several runs, how many messages
were kept and omitted under the default 64 KB budget, and the size of each rendering.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any

from bp_modules.hitl import HistoryMessage
from integration.hitl.transcript import render_transcript

SIZES = (20, 200, 5000)
RUNS = 7

_CARD = {
    "title": "Premium plan",
    "subtitle": "Billed monthly",
    "imageUrl": "https://cdn.example.com/plan.png",
    "actions": [
        {"action": "url", "label": "Buy", "value": "https://shop.example.com/buy"},
        {"action": "postback", "label": "Details", "value": "plan_details"},
    ],
}
_PAYLOADS: list[tuple[str, dict[str, Any]]] = [
    ("text", {"text": "Hello! My order <#4521> hasn't arrived & I'm worried. Can you check?"}),
    ("markdown", {"markdown": "**Sure.** Here is the [tracking page](https://track.example.com/4521)."}),
    ("image", {"imageUrl": "https://cdn.example.com/receipt.png", "title": "Receipt"}),
    ("audio", {"audioUrl": "https://cdn.example.com/voice.ogg"}),
    ("video", {"videoUrl": "https://cdn.example.com/unboxing.mp4", "title": "Unboxing"}),
    ("file", {"fileUrl": "https://cdn.example.com/invoice.pdf", "title": "Invoice"}),
    ("location", {"latitude": -33.8568, "longitude": 151.2153, "title": "Opera House", "address": "Sydney NSW"}),
    ("card", _CARD),
    ("carousel", {"items": [_CARD, {**_CARD, "title": "Basic plan"}]}),
    ("choice", {"text": "Helpful?", "options": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]}),
    (
        "dropdown",
        {"text": "Country", "options": [{"label": "France", "value": "fr"}, {"label": "Japan", "value": "jp"}]},
    ),
    (
        "bloc",
        {
            "items": [
                {"type": "text", "payload": {"text": "Étape 1 ✅"}},
                {"type": "image", "payload": {"imageUrl": "https://cdn.example.com/step1.png"}},
            ]
        },
    ),
]


def history(count: int) -> list[HistoryMessage]:
    """``count`` messages cycling through the 12 types; the author changes every two messages."""
    messages = []
    for index in range(count):
        type_, payload = _PAYLOADS[index % len(_PAYLOADS)]
        source = {"type": "bot"} if index // 2 % 2 else {"type": "user", "userId": f"user_{index % 3}"}
        messages.append(HistoryMessage.model_validate({"source": source, "type": type_, "payload": payload}))
    return messages


def main() -> None:
    """Time each size and print a markdown table."""
    print(f"Python {platform.python_version()} on {platform.machine()}, best/median of {RUNS} runs, budget 64 KB\n")
    print("| messages | best (ms) | median (ms) | kept | omitted | text (B) | markdown (B) | html (B) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in SIZES:
        messages = history(count)
        timings = []
        for _ in range(RUNS):
            start = time.perf_counter()
            transcript = render_transcript(messages, user_names={"user_0": "Alice"})
            timings.append((time.perf_counter() - start) * 1000)
        sizes = [len(r.encode()) for r in (transcript.text, transcript.markdown, transcript.html)]
        print(
            f"| {count} | {min(timings):.2f} | {statistics.median(timings):.2f} | {len(transcript.messages)} "
            f"| {transcript.omitted} | {sizes[0]} | {sizes[1]} | {sizes[2]} |"
        )


if __name__ == "__main__":
    main()
