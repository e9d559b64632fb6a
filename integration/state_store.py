"""The adapters' state store, kept in Botpress integration state."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

from .botpress import BotpressClient


class BotpressStateStore:
    """Implements :class:`external_adapters.StateStore` with ``/v1/chat/states/integration/<id>/<name>``."""

    def __init__(self, botpress: BotpressClient, integration_id: str) -> None:
        self._botpress = botpress
        self._integration_id = integration_id

    async def get(self, name: str) -> dict[str, JsonValue] | None:
        """The stored payload, or ``None`` when the state does not exist or was cleared."""
        state = await self._botpress.get_state("integration", self._integration_id, name)
        payload: Any = state.payload if state is not None else None
        return dict(payload) if isinstance(payload, dict) else None

    async def set(self, name: str, payload: dict[str, JsonValue] | None) -> None:
        """Store the payload; ``None`` clears it."""
        await self._botpress.set_state("integration", self._integration_id, name, payload)
