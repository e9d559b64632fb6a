"""A place for an object made at startup, known to handlers registered before it exists."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class NotStartedError(RuntimeError):
    """The sandbox is not running (before startup or after cleanup)."""


class Slot(Generic[T]):
    """Holds one value between the application's startup and cleanup."""

    def __init__(self, value: T | None = None) -> None:
        self._value = value

    def fill(self, value: T) -> None:
        """Set the value (startup)."""
        self._value = value

    def empty(self) -> None:
        """Forget the value (cleanup)."""
        self._value = None

    @property
    def value(self) -> T:
        """The value, or :class:`NotStartedError`."""
        if self._value is None:
            raise NotStartedError("the sandbox is not running")
        return self._value
