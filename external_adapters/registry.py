"""Find adapters by name: entry points in the ``hitl_bridge.adapters`` group, plus explicit registrations."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from .base import HelpdeskAdapter
from .errors import UnknownAdapterError

ENTRY_POINT_GROUP = "hitl_bridge.adapters"
BUILTIN_ADAPTERS: Mapping[str, str] = MappingProxyType(
    {
        "inbox": "external_adapters.inbox:InboxAdapter",
        "slack": "external_adapters.slack:SlackAdapter",
        "zendesk": "external_adapters.zendesk:ZendeskAdapter",
    }
)

AdapterClass = type[HelpdeskAdapter[Any, Any]]
_registered: dict[str, AdapterClass] = {}
registry: Mapping[str, AdapterClass] = MappingProxyType(_registered)


def register_adapter(cls: AdapterClass, *, clobber: bool = False) -> None:
    """Register an adapter class under ``cls.name``.

    Raises:
        ValueError: another class already holds the name and ``clobber`` is false.
    """
    existing = _registered.get(cls.name)
    if existing is not None and existing is not cls and not clobber:
        raise ValueError(f"adapter name {cls.name!r} is already registered to {existing.__qualname__}")
    _registered[cls.name] = cls


def available_adapters() -> list[str]:
    """Names of every adapter that can be loaded: registered, built in, or installed by entry point."""
    names = set(_registered) | set(BUILTIN_ADAPTERS)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def get_adapter_class(name: str) -> AdapterClass:
    """Return the adapter class registered as ``name``, importing it on first use.

    Raises:
        UnknownAdapterError: nothing is known by that name; the message lists what is.
        ImportError: the adapter is known but its module cannot be imported.
    """
    if name in _registered:
        return _registered[name]
    target = _entry_point_target(name) or BUILTIN_ADAPTERS.get(name)
    if target is None:
        raise UnknownAdapterError(name, available_adapters())
    cls = _load(target)
    register_adapter(cls)
    return cls


def _entry_point_target(name: str) -> str | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.value
    return None


def _load(target: str) -> AdapterClass:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"adapter {target!r} could not be imported: {exc}") from exc
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, HelpdeskAdapter)):
        raise TypeError(f"{target!r} is not a HelpdeskAdapter subclass")
    return cls
