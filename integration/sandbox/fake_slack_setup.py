"""The sandbox's Slack wiring: ``hitl-bridge sandbox --adapter slack`` with no Slack credentials runs a fake Slack.

The fake workspace (:mod:`.fake_slack`) is mounted in this server under ``/sandbox/slack``, and the installation's
configuration the sandbox sends is filled in for it: a bot token and signing secret made at start (random, never
printed), the fake's support channel, and ``apiBaseUrl`` = the fake's Web API. The fake delivers what the agent
does (replies, files, Claim, Close) to the sandbox's webhook URL, signed with that secret, as Slack would. The
agent acts on the fake's page (``/sandbox/slack/``) or with its ``/_test/`` hooks.

The fake is on this server's loopback address, a vendor URL the adapter honours only with
``allow_vendor_base_urls``: the sandbox turns that setting on for this case alone (it also lets media downloads
reach private addresses: acceptable for a sandbox, which serves loopback only unless forced). With a ``botToken``
in ``--config`` the real Slack is used and nothing here runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from integration.settings import Settings

from .fake_slack import DEFAULT_CHANNEL_ID, DeliverySettings, FakeSlack, fake_slack_app

ADAPTER = "slack"
PREFIX = "/sandbox/slack"
FAKE_SLACK: web.AppKey[FakeSlack] = web.AppKey("fake_slack", FakeSlack)


@dataclass(frozen=True)
class FakeSlackInstall:
    """What the sandbox sends as the Slack installation's configuration, for the fake."""

    bot_token: str
    signing_secret: str

    def configuration(self, local_base: str) -> dict[str, Any]:
        """The configuration keys of the Slack adapter, pointing at the fake mounted on ``local_base``."""
        return {
            "adapter": ADAPTER,
            "botToken": self.bot_token,
            "signingSecret": self.signing_secret,
            "channelId": DEFAULT_CHANNEL_ID,
            "apiBaseUrl": f"{local_base}{PREFIX}/api",
        }


def wants_fake_slack(adapter: str, settings: Settings) -> bool:
    """Whether the sandbox hands off to Slack without a real workspace's token."""
    return adapter == ADAPTER and not settings.sandbox_configuration.get("botToken")


def mount_fake_slack(app: web.Application, settings: Settings, local_base: str) -> Settings:
    """Mount a fresh fake workspace under :data:`PREFIX`; the settings to run the sandbox with against it."""
    install = FakeSlackInstall(f"xoxb-sandbox-{secrets.token_hex(12)}", secrets.token_hex(16))
    fake_app, fake = fake_slack_app(install.bot_token, DeliverySettings(None, install.signing_secret))
    app.add_subapp(PREFIX, fake_app)
    app[FAKE_SLACK] = fake
    configuration = {**settings.sandbox_configuration, **install.configuration(local_base)}
    return settings.model_copy(update={"sandbox_configuration": configuration, "allow_vendor_base_urls": True})


def point_fake_slack(app: web.Application, webhook_url: str) -> None:
    """Make the fake deliver to the sandbox's webhook URL (the app's Request URL), once the sandbox knows it."""
    fake = app.get(FAKE_SLACK)
    if fake is not None:
        fake.deliverer.settings.request_url = webhook_url


def fake_slack_lines(app: web.Application, self_url: str) -> list[str]:
    """What to print at start: where the agent acts."""
    if app.get(FAKE_SLACK) is None:
        return []
    base = f"{self_url}{PREFIX}"
    return [
        f"  Fake Slack:          {base}/  (act as the agent: reply, attach a file, click Claim or Close)",
        f"  Fake Slack hooks:    {base}/_test/...  (curl: docs/slack.md, 'Trying it without Slack')",
    ]
