"""The errors adapters raise. The integration maps each one to a Botpress response.

Hierarchy::

    AdapterError
    ├── AdapterConfigError          bad per-installation configuration (names the field)  -> 400 InvalidPayload
    ├── SessionOptionsError         bad hitlSession card value (names the field)           -> 400 InvalidPayload
    ├── InvalidSignatureError       a webhook failed verification                          -> 401
    ├── InvalidWebhookError         a webhook body we cannot read                          -> 400
    ├── UnknownAdapterError         no adapter by that name (lists the available ones)
    └── ExternalServiceError        the helpdesk answered with an error, or not at all
        ├── ExternalRequestError    a 4xx the helpdesk will answer again the same way      -> 400 Runtime
        │   ├── ExternalAuthError   401/403
        │   └── ExternalNotFoundError 404
        ├── RateLimitedError        429 that outlived our retries                          -> 500 (transient)
        └── UnavailableError        5xx or network failure that outlived our retries      -> 500 (transient)
            └── OutcomeUnknownError a write that is not idempotent got no answer: not repeated  -> 500

Messages are one line and never carry secrets: bodies and headers go to debug logs only.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error an adapter raises on purpose."""


class AdapterConfigError(AdapterError):
    """The installation's configuration is not valid for this adapter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"configuration.{field}: {message}")
        self.field = field


class SessionOptionsError(AdapterError):
    """A ``hitlSession`` value is not valid for this adapter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"hitlSession.{field}: {message}")
        self.field = field


class InvalidSignatureError(AdapterError):
    """A webhook did not carry a valid signature; nothing was processed."""


class InvalidWebhookError(AdapterError):
    """A webhook body could not be understood."""


class UnknownAdapterError(AdapterError, LookupError):
    """No adapter is registered under the requested name."""

    def __init__(self, name: str, available: list[str]) -> None:
        listing = ", ".join(sorted(available)) or "none"
        super().__init__(f"unknown adapter {name!r}; available adapters: {listing}")
        self.name = name
        self.available = sorted(available)


class ExternalServiceError(AdapterError):
    """The helpdesk answered with an error, or could not be reached."""

    def __init__(self, service: str, method: str, path: str, status: int | None, summary: str) -> None:
        where = f"{service} {method} {path}"
        status_text = f" -> {status}" if status is not None else ""
        super().__init__(f"{where}{status_text}: {summary}")
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        self.summary = summary


class ExternalRequestError(ExternalServiceError):
    """The helpdesk refused the request (4xx); repeating it will not help."""


class ExternalAuthError(ExternalRequestError):
    """The helpdesk refused our credentials (401/403)."""


class ExternalNotFoundError(ExternalRequestError):
    """The helpdesk has no such resource (404)."""


class RateLimitedError(ExternalServiceError):
    """The helpdesk kept rate-limiting us beyond the retry budget."""

    def __init__(self, service: str, method: str, path: str, retry_after: float | None) -> None:
        super().__init__(service, method, path, 429, "rate limited")
        self.retry_after = retry_after


class UnavailableError(ExternalServiceError):
    """The helpdesk failed (5xx) or was unreachable beyond the retry budget."""


class OutcomeUnknownError(UnavailableError):
    """A write that is not idempotent failed in a way that may still have taken effect; it was not repeated.

    Raised for a network error after the request may have reached the helpdesk (a read timeout, a reset) and for a
    5xx that does not say the helpdesk did not act. Only a check (the ticket by its key...) can tell what happened.
    """
