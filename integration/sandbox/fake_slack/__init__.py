"""A fake Slack workspace over HTTP: the Web API methods the Slack adapter uses, and people acting in it.

It lets ``hitl-bridge sandbox --adapter slack`` show a whole handoff with no Slack account, and the cross-process
end-to-end tests (``tests/e2e/slack_server.py`` runs it as its own process) drive the adapter through real HTTP:
the agent's replies and clicks become signed deliveries to the Request URL, as Slack makes them. See
docs/slack.md, "Trying it without Slack", and :mod:`.hooks` for the ``/_test/`` endpoints.

It is a dev tool of the sandbox: nothing of the bridge imports it but the sandbox, and it imports no adapter.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from .checks import Checker
from .delivery import DeliverySettings
from .hooks import TestHooks
from .page import AgentPage
from .server import FakeSlack
from .workspace import DEFAULT_AGENTS, DEFAULT_CHANNEL_ID, Workspace

__all__ = ["DEFAULT_AGENTS", "DEFAULT_CHANNEL_ID", "DeliverySettings", "FakeSlack", "fake_slack_app"]


def fake_slack_app(
    bot_token: str,
    deliveries: DeliverySettings,
    *,
    channel_id: str = DEFAULT_CHANNEL_ID,
    checkers: Sequence[Checker] = (),
    echo_bot_messages: bool = True,
    middlewares: Sequence[Middleware] = (),
) -> tuple[web.Application, FakeSlack]:
    """The aiohttp application of a fresh fake workspace (run it, or mount it as a sub-application), and the fake."""
    fake = FakeSlack(
        Workspace.seeded(bot_token, channel_id),
        deliveries,
        checkers=tuple(checkers),
        echo_bot_messages=echo_bot_messages,
    )
    app = web.Application(middlewares=middlewares)
    hooks = TestHooks(fake)
    app.add_routes(fake.routes())
    app.add_routes(hooks.routes())
    app.add_routes(AgentPage(hooks, channel_id).routes())
    app.cleanup_ctx.append(fake.lifespan)
    return app, fake
