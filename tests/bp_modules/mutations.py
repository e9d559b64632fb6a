"""Turn a valid instance into a probably-invalid one, one small change at a time.

Each mutation targets one place in the instance (a dict key or a list item, at any depth), so the
reference schema and the model get to disagree about exactly one thing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
EXTRA_KEYS = st.sampled_from(["extra", "foo", "Text", "user_id", "image_url", "ID", ""]) | st.text(max_size=6)


def paths(instance: Any, prefix: Path = ()) -> list[Path]:
    """Every dict key and list index in ``instance``, as paths from the root."""
    found: list[Path] = []
    if isinstance(instance, dict):
        for key, value in instance.items():
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(instance, list):
        for index, value in enumerate(instance):
            found.append((*prefix, index))
            found.extend(paths(value, (*prefix, index)))
    return found


def containers(instance: Any, prefix: Path = ()) -> list[Path]:
    """Paths of every dict in ``instance`` (the root is ``()``)."""
    found: list[Path] = [prefix] if isinstance(instance, dict) else []
    children = (
        instance.items() if isinstance(instance, dict) else enumerate(instance) if isinstance(instance, list) else []
    )
    for key, value in children:
        found.extend(containers(value, (*prefix, key)))
    return found


def _get(instance: Any, path: Path) -> Any:
    for part in path:
        instance = instance[part]
    return instance


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _replace(instance: Any, path: Path, make: Callable[[Any], Any]) -> Any:
    mutated = copy.deepcopy(instance)
    parent = _get(mutated, path[:-1])
    parent[path[-1]] = make(parent[path[-1]])
    return mutated


def _drop(instance: Any, path: Path) -> Any:
    mutated = copy.deepcopy(instance)
    del _get(mutated, path[:-1])[path[-1]]
    return mutated


def _rename(instance: Any, path: Path, new_key: str) -> Any:
    mutated = copy.deepcopy(instance)
    parent = _get(mutated, path[:-1])
    parent[new_key] = parent.pop(path[-1])
    return mutated


def _add_key(instance: Any, path: Path, key: str, value: Any) -> Any:
    mutated = copy.deepcopy(instance)
    _get(mutated, path)[key] = value
    return mutated


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A valid instance from ``valid`` with one change: dropped, replaced, renamed or added."""
    instance = draw(valid)
    targets = paths(instance)
    kind = draw(st.sampled_from(["drop", "scalar", "empty", "long", "snake", "add"] if targets else ["add"]))
    if kind == "add":
        where = draw(st.sampled_from(containers(instance)))
        return _add_key(instance, where, draw(EXTRA_KEYS), draw(JSON_SCALARS))
    path = draw(st.sampled_from(targets))
    if kind == "drop":
        return _drop(instance, path)
    if kind == "scalar":
        value = draw(JSON_SCALARS)
        return _replace(instance, path, lambda _old: value)
    if kind == "empty":
        return _replace(instance, path, lambda old: "" if isinstance(old, str) else [] if isinstance(old, list) else {})
    if kind == "long":
        return _replace(instance, path, lambda _old: "x" * 501)
    key = path[-1]
    if isinstance(key, str) and _snake(key) != key:
        return _rename(instance, path, _snake(key))
    return _drop(instance, path)
