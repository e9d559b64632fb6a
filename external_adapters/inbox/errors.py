"""Errors of the inbox service. The console maps them to HTTP statuses; the adapter to adapter errors."""

from __future__ import annotations


class InboxError(Exception):
    """Base of the service's deliberate errors."""

    status = 400


class InvalidInput(InboxError):
    """A value the service refuses; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(InboxError):
    """No such record, or not one the agent may see."""

    status = 404


class Forbidden(InboxError):
    """The agent may not do this."""

    status = 403


class Conflict(InboxError):
    """The record is not in a state that allows this (e.g. claiming a closed session)."""

    status = 409
