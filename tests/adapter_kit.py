"""What the helpdesk adapters' tests share: the test installation, a media host's files, state, DNS and sleeps."""

from __future__ import annotations

import json

from pydantic import JsonValue

from external_adapters import Installation
from external_adapters.url_guard import resolve_host

MEDIA_URL = "https://files.example.com"
PUBLIC_ADDRESS = "93.184.215.14"
"""What the test hosts resolve to: a public address, so media downloads pass the address check."""
INSTALLATION = Installation(
    bot_id="bot_01JTEST",
    bot_user_id="botuser_01JTEST",
    integration_id="intver_01JTEST",
    integration_alias="hitl",
    webhook_id="wh_01JTESTWEBHOOK",
)
MEDIA = {
    "/cat.png": ("image/png", b"\x89PNG fake cat"),
    "/song.mp3": ("audio/mpeg", b"ID3 fake song"),
    "/clip.mp4": ("video/mp4", b"fake clip"),
    "/doc.pdf": ("application/pdf", b"%PDF fake"),
}
"""The files served under :data:`MEDIA_URL`: path -> (content type, bytes)."""


class MemoryState:
    """An in-memory :class:`external_adapters.StateStore`; it keeps a JSON copy, as the real store does."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, JsonValue]] = {}

    async def get(self, name: str) -> dict[str, JsonValue] | None:
        return self.items.get(name)

    async def set(self, name: str, payload: dict[str, JsonValue] | None) -> None:
        if payload is None:
            self.items.pop(name, None)
        else:
            self.items[name] = json.loads(json.dumps(payload))


async def fixed_dns(host: str, port: int) -> list[str]:
    """``*.example.com`` is public (tests have no DNS); IP literals and other names go to the system resolver."""
    if host.endswith(".example.com"):
        return [PUBLIC_ADDRESS]
    return await resolve_host(host, port)


class RecordedSleeps(list[float]):
    """A ``sleep`` that records waits instead of sleeping."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
