"""register and unregister: set the helpdesk up to call us back, and tear it down."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from external_adapters import AdapterError

from ..services import Deps
from .validation import validate

log = logging.getLogger(__name__)


class RegisterBody(BaseModel):
    """The ``register`` / ``unregister`` body."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    webhook_url: str = Field(alias="webhookUrl", min_length=1)


async def register(deps: Deps, body: Any) -> None:
    """Subscribe the helpdesk to the installation's webhook URL. Fails loudly: Botpress shows the reason."""
    data = validate(RegisterBody, body, "body")
    await deps.adapter.subscribe(data.webhook_url)


async def unregister(deps: Deps, body: Any) -> None:
    """Remove what register created; failures are logged, never block an uninstall."""
    data = validate(RegisterBody, body, "body")
    try:
        await deps.adapter.unsubscribe(data.webhook_url)
    except AdapterError as exc:
        log.warning("unregister left something behind: %s", exc)
