"""The sandbox's demo agent: on a fresh machine, an inbox account to log into ``/console`` with.

With the sandbox handing off to the inbox, no admin configured and no agent in the inbox yet, start-up creates
``agent@sandbox.local`` (an available admin, in the groups the sandbox's sessions carry) with a random password,
and prints the credentials once on stdout. The password is never logged nor stored in clear.

The sandbox calls it through the ``hitl_bridge.sandbox`` entry point (:func:`prepare_demo`), without naming the inbox.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from external_adapters.extensions import DemoRequest

from .config import InboxConfig
from .errors import Conflict
from .service import InboxService

PLUGIN_CONFIGURATION: Mapping[str, str] = MappingProxyType({"onHumanAgentAssignedMessage": "NULL"})
"""The HITL plugin configuration the inbox is meant to run with (the ``hitl_bridge.sandbox_plugin`` hook).

The plugin says its joined line on the first message from the ticket side of a session nobody was assigned, and an
outcome's apology (no agent, all rejected, timeout) is such a message: with that line on, the end user would read
that an agent joined when nobody could. The inbox says its own ``assigned`` text ("You are now chatting with
{{agentName}}.") when an agent really claims, so the plugin's line is switched off (``"NULL"``)."""
DEMO_EMAIL = "agent@sandbox.local"
DEMO_NAME = "Sandbox Agent"
PASSWORD_BYTES = 12
_LISTED = 3


@dataclass(frozen=True)
class DemoAccounts:
    """What start-up did: created the demo agent (with its password), or kept the accounts already there."""

    created: str | None = None
    password: str | None = field(default=None, repr=False)
    kept: tuple[str, ...] = ()

    def lines(self, console_url: str, reset_prefix: str = "") -> list[str]:
        """What to print (the only place the password appears)."""
        if self.created is not None and self.password is not None:
            return [
                f"  Console e-mail:      {self.created}",
                f"  Console password:    {self.password}",
                f"  (a demo agent made for this data directory; the password is shown only once: sign in at "
                f"{console_url})",
            ]
        listed = ", ".join(self.kept[:_LISTED]) + (", ..." if len(self.kept) > _LISTED else "")
        email = shlex.quote(self.kept[0]) if self.kept else "<e-mail>"
        return [
            f"  Console accounts:    kept from an earlier run ({listed})",
            f"  Forgot a password?   {reset_prefix}hitl-bridge inbox create-admin --email {email} "
            "--password '<new password>'",
        ]


async def prepare_demo(backend: object, request: DemoRequest) -> list[str]:
    """The ``hitl_bridge.sandbox`` hook: make the demo agent if needed; the lines to print (maybe a password)."""
    if not isinstance(backend, InboxService):
        return []
    accounts = await ensure_demo_agent(backend, sandbox_groups(request.configuration))
    if accounts is None:
        return []
    return accounts.lines(f"{request.public_url}/console", request.reset_prefix)


def sandbox_groups(configuration: Mapping[str, Any]) -> list[str]:
    """The rule tags every sandbox session carries (the installation's ``defaultRuleTags``)."""
    try:
        return InboxConfig.model_validate({k: v for k, v in configuration.items() if k != "adapter"}).default_rule_tags
    except ValidationError:
        return []  # the integration reports the bad configuration on every call


async def ensure_demo_agent(service: InboxService, groups: Sequence[str] = ()) -> DemoAccounts | None:
    """Create the demo agent when the inbox has no agent and no configured admin; ``None`` when one is configured."""
    if service.options.admin_email:
        return None
    existing = await service.agents.all()
    if existing:
        return DemoAccounts(kept=tuple(agent.email for agent in existing))
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    try:
        agent = await service.agents.create(
            DEMO_EMAIL, password, name=DEMO_NAME, role="admin", groups=groups, status="available"
        )
    except Conflict:  # another process sharing the data directory was first
        return DemoAccounts(kept=(DEMO_EMAIL,))
    return DemoAccounts(created=agent.email, password=password)
