"""Adapters are found by entry point, with a clear error listing the available ones."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from external_adapters import HelpdeskAdapter, UnknownAdapterError, registry
from tests.fakes import FakeAdapter


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    saved = dict(registry._registered)
    registry._registered.clear()
    yield
    registry._registered.clear()
    registry._registered.update(saved)


def _entry_points(*points: EntryPoint) -> Any:
    def select(group: str) -> list[EntryPoint]:
        return [p for p in points if p.group == group]

    return select


def test_unknown_name_lists_what_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", _entry_points())
    with pytest.raises(UnknownAdapterError) as caught:
        registry.get_adapter_class("freshdesk")
    assert caught.value.available == ["inbox", "slack", "zendesk"]
    assert "freshdesk" in str(caught.value) and "inbox, slack, zendesk" in str(caught.value)


def test_third_party_adapter_found_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="fake", value="tests.fakes:FakeAdapter", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", _entry_points(point))
    assert registry.get_adapter_class("fake") is FakeAdapter
    assert "fake" in registry.available_adapters()
    assert registry.registry["fake"] is FakeAdapter


def test_entry_point_to_a_non_adapter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="bad", value="tests.fakes:FakeDesk", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", _entry_points(point))
    with pytest.raises(TypeError, match="not a HelpdeskAdapter"):
        registry.get_adapter_class("bad")


def test_unimportable_adapter_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="gone", value="no_such_module:Adapter", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", _entry_points(point))
    with pytest.raises(ImportError, match=r"gone|no_such_module"):
        registry.get_adapter_class("gone")


def test_name_clash_needs_clobber() -> None:
    class Other(FakeAdapter):
        pass

    registry.register_adapter(FakeAdapter)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_adapter(Other)
    registry.register_adapter(Other, clobber=True)
    assert registry.registry["fake"] is Other


def test_builtins_are_declared_as_entry_points() -> None:
    from importlib.metadata import entry_points

    declared = {p.name: p.value for p in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert declared == dict(registry.BUILTIN_ADAPTERS)
    assert issubclass(FakeAdapter, HelpdeskAdapter)
