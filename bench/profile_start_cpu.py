"""Hand-run profile (not a test) of startHitl's CPU-bound steps on a long history, in this process.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python bench/profile_start_cpu.py [--size 1000] [--runs 50] [--profile]

It times, per step, what the server does with a startHitl body before and around its upstream calls: the body's
JSON parse (``parse_body``), the input's validation (``parse_start_input``), the retry hash (``input_hash``),
the transcript (``render_transcript``) and the JSON encode of a Zendesk ticket body holding it. The history is
the one ``bench/bench_speed.py`` sends (``tests/integration/call_log.history``). ``--profile`` prints cProfile's
top functions over every step.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integration.hitl.history import parse_start_input
from integration.hitl.input_hash import input_hash
from integration.hitl.transcript import render_transcript
from integration.operations import parse_body
from tests.integration.call_log import history


def _body(size: int) -> str:
    start = {"userId": "user_1", "title": "Bench", "messageHistory": history("user_1", size)}
    return json.dumps({"type": "startHitl", "input": start})


def _steps(raw_body: str) -> dict[str, Any]:
    deps: Any = SimpleNamespace(ctx=SimpleNamespace(installation=SimpleNamespace(bot_id="b", integration_id="i")))
    timings: dict[str, float] = {}

    def timed(name: str, step: Any) -> Any:
        began = time.process_time()
        value = step()
        timings[name] = (time.process_time() - began) * 1000
        return value

    body = timed("parse_body", lambda: parse_body(raw_body))
    request = timed("parse_start_input", lambda: parse_start_input(body["input"]))
    timed("input_hash", lambda: input_hash(deps.ctx.installation, body["input"]))
    transcript = timed("render_transcript", lambda: render_transcript(request.history, user_names={"user_1": "U"}))
    ticket = {"ticket": {"comment": {"html_body": transcript.html}, "subject": "Bench", "external_id": "x" * 32}}
    timed("ticket JSON encode", lambda: json.dumps(ticket).encode())
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    raw_body = _body(args.size)
    _steps(raw_body)  # warm-up: pydantic's and the formatter's caches
    runs = [_steps(raw_body) for _ in range(args.runs)]
    print(f"{args.size} messages, body {len(raw_body):,} bytes, median CPU ms over {args.runs} runs:")
    for name in runs[0]:
        values = sorted(run[name] for run in runs)
        print(f"  {name:20} {values[len(values) // 2]:7.2f}")
    print(f"  {'total':20} {sorted(sum(run.values()) for run in runs)[len(runs) // 2]:7.2f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [_steps(raw_body) for _ in range(10)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
