"""The operation context, decoded from the ``x-bp-*`` headers exactly as the SDK decodes it."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from external_adapters import Installation
from external_adapters.safe_json import UnreadableJsonError, loads

from .errors import ContextError, InvalidPayloadError

OPERATION_HEADER = "x-bp-operation"
CONFIGURATION_HEADER = "x-bp-configuration"
CONFIGURATION_TYPE_HEADER = "x-bp-configuration-type"
TRACE_HEADERS = ("traceparent", "tracestate")
# Ids travel on in the headers of Runtime API calls, which take printable ASCII only (tracestate has spaces).
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+")
_TRACE_VALUE = re.compile(r"[\x20-\x7e]+")

_REQUIRED = (
    ("x-bot-id", "Missing bot header"),
    ("x-bot-user-id", "Missing bot user header"),
    ("x-integration-id", "Missing integration header"),
    ("x-integration-alias", "Missing integration alias header"),
    ("x-webhook-id", "Missing webhook header"),
    (OPERATION_HEADER, "Missing operation header"),
    (CONFIGURATION_HEADER, "Missing configuration header"),
)


@dataclass(frozen=True)
class OperationContext:
    """Who is calling, for which operation, with which installation configuration."""

    operation: str
    installation: Installation
    configuration: dict[str, Any]
    configuration_type: str | None = None
    trace_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id (second field of ``traceparent``), for logs."""
        return context_trace_id(self.trace_headers)


def context_from_headers(headers: Mapping[str, str]) -> OperationContext:
    """Build the context from lower-cased request headers.

    Raises:
        ContextError: a required header is missing or not printable ASCII, or the configuration is not
            base64 JSON.
        InvalidPayloadError: the configuration is JSON nested too deeply to read.
    """
    for name, message in _REQUIRED:
        value = headers.get(name)
        if not value:
            raise ContextError(message)
        if not _HEADER_VALUE.fullmatch(value):
            raise ContextError(message.replace("Missing", "Invalid"))
    installation = Installation(
        bot_id=headers["x-bot-id"],
        bot_user_id=headers["x-bot-user-id"],
        integration_id=headers["x-integration-id"],
        integration_alias=headers["x-integration-alias"],
        webhook_id=headers["x-webhook-id"],
    )
    return OperationContext(
        operation=headers[OPERATION_HEADER],
        installation=installation,
        configuration=decode_configuration(headers[CONFIGURATION_HEADER]),
        configuration_type=headers.get(CONFIGURATION_TYPE_HEADER),
        trace_headers={name: headers[name] for name in TRACE_HEADERS if _TRACE_VALUE.fullmatch(headers.get(name, ""))},
    )


def decode_configuration(value: str) -> dict[str, Any]:
    """Decode base64 JSON in either alphabet, with or without padding, like Node's decoder.

    Raises:
        ContextError: the value is not base64 of a JSON object.
        InvalidPayloadError: the JSON nests too deeply to read (V8 would read it: the SDK's 500 would be wrong).
    """
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        decoded = loads(base64.b64decode(text, validate=True).decode("utf-8"))
    except UnreadableJsonError as exc:
        raise InvalidPayloadError(f"configuration: {exc}") from None
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ContextError(f"Invalid configuration header: {type(exc).__name__}") from None
    if not isinstance(decoded, dict):
        raise ContextError("Invalid configuration header: not a JSON object")
    return decoded


def encode_configuration(configuration: Mapping[str, Any]) -> str:
    """Encode a configuration the way the runtime sends it (standard base64 of UTF-8 JSON)."""
    return base64.b64encode(json.dumps(dict(configuration)).encode("utf-8")).decode("ascii")


def context_trace_id(headers: Mapping[str, str]) -> str | None:
    """The trace id of a request's ``traceparent`` header, if any."""
    parts = headers.get("traceparent", "").split("-")
    return parts[1] if len(parts) >= 2 and parts[1] else None
