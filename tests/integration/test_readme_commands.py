"""Every ``hitl-bridge`` command the README and the docs show is one the command line accepts, and the README tells
how to run them without an activated venv."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from integration.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_INLINE = re.compile(r"`([^`\n]*hitl-bridge [^`\n]*)`")
_PLACEHOLDER = re.compile(r"^<[^>]*>$")
ACTIVATION = "source .venv/bin/activate"


def _subcommands() -> set[str]:
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return set(action.choices or ())


def _argv(snippet: str) -> list[str] | None:
    """The arguments after ``hitl-bridge`` in ``snippet``, or ``None`` if it is not a command (a printed banner...)."""
    start = snippet.find("hitl-bridge ")
    command = re.split(r"\s(?:&&|\||>|#)\s", snippet[start:])[0].replace("[", "").replace("]", "")
    argv = ["1" if _PLACEHOLDER.match(token) else token for token in shlex.split(command)[1:]]
    if not argv or not (argv[0] in _subcommands() or argv[0].startswith("--")):
        return None
    return argv


def _snippets(text: str) -> list[str]:
    blocks = re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.S)  # shell blocks, not diagrams
    lines = [line for block in blocks for line in block.splitlines() if "hitl-bridge " in line]
    return lines + _INLINE.findall(re.sub(r"```.*?```", "", text, flags=re.S))


COMMANDS = [
    pytest.param(argv, id=f"{path.name}: {' '.join(argv)}")
    for path in DOCUMENTS
    for snippet in _snippets(path.read_text())
    if (argv := _argv(snippet)) is not None
]


def test_the_documents_show_commands() -> None:
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize("argv", COMMANDS)
def test_each_documented_command_parses(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exited:  # --help and --version exit 0 once printed; a bad command exits 2
        assert exited.code == 0, f"hitl-bridge {' '.join(argv)} is refused by the command line"


def test_the_readme_says_how_to_run_commands_before_the_first_unprefixed_one() -> None:
    """From the Quick start on (the overview above it only names the commands)."""
    text = (ROOT / "README.md").read_text()
    text = text[text.index("## Quick start") :]
    unprefixed = [m.start() for m in re.finditer(r"(?<![/\w-])hitl-bridge (\w+|--)", text)]
    assert ACTIVATION in text and text.index(ACTIVATION) < min(unprefixed)
