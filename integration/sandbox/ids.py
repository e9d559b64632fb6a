"""Botpress-shaped ids and timestamps for the emulator."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid() -> str:
    """26 characters, sortable by creation time like the ids Botpress hands out."""
    millis = int(time.time() * 1000)
    stamp = "".join(_CROCKFORD[(millis >> shift) & 31] for shift in range(45, -1, -5))
    return stamp + "".join(secrets.choice(_CROCKFORD) for _ in range(16))


def new_id(prefix: str) -> str:
    """``<prefix>_<ulid>``: 28 to 36 characters for the prefixes used here (``user``, ``conv``, ``msg``...)."""
    return f"{prefix}_{_ulid()}"


def new_uuid() -> str:
    """A 36-character UUID, the shape of bot and webhook ids."""
    return str(uuid.uuid4())


def now_iso() -> str:
    """The current time as the API writes it: ISO 8601, milliseconds, ``Z``."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """``moment`` (aware) as ``2026-08-19T12:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 date-time (``Z`` allowed; naive means UTC), or ``None`` if ``text`` is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now_millis() -> int:
    """Milliseconds since the epoch (state expiry is counted in these)."""
    return int(time.time() * 1000)
