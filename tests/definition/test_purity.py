"""definition/ is pure data: it imports only bp_modules, pydantic and the standard library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import definition

ALLOWED = {"bp_modules", "pydantic", "pydantic_core", "definition"}
SOURCES = sorted(Path(definition.__file__).parent.glob("*.py"))
FORBIDDEN_STDLIB = {"socket", "subprocess", "urllib", "http", "asyncio", "os", "io", "pathlib", "shutil"}


def _imported(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_imports_are_allowed(source: Path) -> None:
    imported = _imported(source)
    outside = {name for name in imported if name not in ALLOWED and name not in sys.stdlib_module_names}
    assert not outside, f"{source.name} imports {sorted(outside)}"
    assert not imported & FORBIDDEN_STDLIB, f"{source.name} imports I/O modules {sorted(imported & FORBIDDEN_STDLIB)}"


def test_the_check_sees_the_modules() -> None:
    assert {path.name for path in SOURCES} >= {"build.py", "json_schema.py", "states.py", "tags.py", "renames.py"}
