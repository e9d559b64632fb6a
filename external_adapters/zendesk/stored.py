"""The stored ``zendeskSubscription`` (signing secret, marker tag, bot user), read from Botpress and cached per
process. Apart from :mod:`.subscription`, which imports the client: the runtime, which the client imports, holds
the cache."""

from __future__ import annotations

from ..base import AdapterContext
from ..errors import InvalidSignatureError
from .models import ZendeskSubscription
from .webhooks import verify

STATE_NAME = "zendeskSubscription"


async def load(context: AdapterContext) -> ZendeskSubscription | None:
    """The stored subscription, or ``None`` before the first register."""
    payload = await context.state.get(STATE_NAME)
    return ZendeskSubscription.model_validate(payload) if payload else None


class Subscriptions:
    """Each installation's subscription, cached for the process (in :class:`.runtime.ZendeskRuntime`).

    A webhook needs the signing secret and the marker tag; reading them from Botpress for every delivery cost two
    calls. The copy lives in this process's memory only: the secret never reaches the coordination database or a
    log. Another worker may have registered again meanwhile (a new webhook, a new secret): a delivery that fails
    the cached copy re-reads it once (:meth:`get` with ``fresh``), and register and unregister here refresh it.
    """

    def __init__(self) -> None:
        self._cached: dict[tuple[str, str, str], ZendeskSubscription | None] = {}

    async def get(self, context: AdapterContext, *, fresh: bool = False) -> tuple[ZendeskSubscription | None, bool]:
        """The subscription, and whether it came from the cache (``fresh``: read from Botpress, then cached)."""
        key = _installation_key(context)
        if not fresh and key in self._cached:
            return self._cached[key], True
        stored = await load(context)
        self._cached[key] = stored
        return stored, False

    async def verify(self, context: AdapterContext, headers: dict[str, str], body: bytes, now: float) -> None:
        """Check a delivery's signature with the cached secret; one that fails it is checked again with the secret
        read afresh, so a forged delivery costs one read and a genuine one none.

        Raises:
            InvalidSignatureError: no subscription, or the signature fails with the stored secret too.
        """
        stored, cached = await self.get(context)
        try:
            _check_signature(stored, headers, body, now)
        except InvalidSignatureError:
            if not cached:
                raise
            stored, _ = await self.get(context, fresh=True)
            _check_signature(stored, headers, body, now)

    async def marked(self, context: AdapterContext, marker: str | None) -> ZendeskSubscription | None:
        """The subscription when ``marker`` is its tag (a cached copy that differs is read again once), else None."""
        stored, cached = await self.get(context)
        if marker is not None and cached and (stored is None or stored.marker_tag != marker):
            stored, _ = await self.get(context, fresh=True)
        return stored if stored is not None and marker is not None and stored.marker_tag == marker else None

    def put(self, context: AdapterContext, subscription: ZendeskSubscription | None) -> None:
        """Cache what register or unregister just stored."""
        self._cached[_installation_key(context)] = subscription


def _check_signature(stored: ZendeskSubscription | None, headers: dict[str, str], body: bytes, now: float) -> None:
    if stored is None or not stored.signing_secret:
        raise InvalidSignatureError("no Zendesk signing secret: register the integration first")
    verify(stored.signing_secret, headers, body, now)


def _installation_key(context: AdapterContext) -> tuple[str, str, str]:
    installation = context.installation
    return installation.bot_id, installation.integration_id, installation.webhook_id
