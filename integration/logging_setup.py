"""Structured logging that carries the request's trace id, and keeps secrets out of the log lines."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)

# Libraries that log what they handle: aiosqlite prints every statement with its parameters at DEBUG (HMAC
# secrets, password and token hashes, contact data, message texts), httpx/httpcore print URLs and connection
# details. They stay at WARNING whatever HITL_BRIDGE_LOG_LEVEL says.
QUIET_LIBRARIES = ("aiosqlite", "httpx", "httpcore", "asyncio", "hpack", "multipart", "charset_normalizer")
MASK = "***"
_KEYED = re.compile(
    r"""(?ix)
    (["']?[\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization|cookie|signature)[\w-]*["']?
     \s*[:=]\s*(?:b?["'])?)             # the key, its separator and an opening quote
    ((?:bearer|basic)\s+)?              # an HTTP auth scheme, kept
    [^\s"',;)}&]+                       # the value
    """
)
_PATTERNS = (
    (re.compile(r"\$argon2(?:id|i|d)\$[\w$=,+/.-]+"), "$argon2" + MASK),  # a password hash
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), r"\1 " + MASK),  # an Authorization value
    (re.compile(r"\b[0-9a-fA-F]{40,}\b"), MASK),  # HMAC secrets and SHA-256 token hashes are 64 hex digits
)


def redact(text: str) -> str:
    """``text`` with anything shaped like a secret masked: ``password=...``, bearer tokens, argon2 hashes,
    long hex strings. A second line of defence: the first is never to log secrets at all."""
    text = _KEYED.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{MASK}", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secret-shaped values in a record's message and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _TraceFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = trace_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace_id (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", "-"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # already redacted when the RedactingFilter saw the record
            line["exception"] = record.exc_text
        return json.dumps(line)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send logs to stderr, as text or JSON lines, each with the current trace id and with secrets masked.
    Chatty libraries (:data:`QUIET_LIBRARIES`) log warnings and errors only."""
    handler = logging.StreamHandler()
    handler.addFilter(_TraceFilter())
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [trace=%(trace_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
