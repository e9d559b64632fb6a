"""Plumbing of the emulated HITL plugin: its dependencies, user linking, history, and the steps its flows share."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bp_modules.hitl import HITL_MESSAGE_TYPES

from .plugin_config import PluginConfig, TextField
from .plugin_sessions import PluginMemory
from .runtime import IntegrationCallError
from .runtime_api import Botpress
from .runtime_api.records import newest_first
from .store import Record, Store

log = logging.getLogger(__name__)

UNSUPPORTED_TYPE_TEXT = "Sorry, I can only handle one of the following message types: " + ", ".join(HITL_MESSAGE_TYPES)
NOT_CONNECTED_TEXT = "Something went wrong, you are not connected to a human agent anymore. Please try again later."
HISTORY_PAGE = 20
PLUGIN_ALIAS = "hitl"
"""The alias the bot gives the plugin; the SDK prefixes the plugin's tags with it (``hitl#upstream``)."""


class ActionCaller(Protocol):
    """Calls an action of the integration (the runtime's ``action_triggered``)."""

    async def call_action(self, action: str, input: dict[str, Any]) -> dict[str, Any]:
        """The action's output."""
        ...


SessionEnded = Callable[[str], Awaitable[None]]
Schedule = Callable[[float, Callable[[], Awaitable[None]]], None]


class PluginBase:
    """Dependencies and shared steps of :class:`~integration.sandbox.plugin.HitlPlugin`."""

    def __init__(
        self,
        botpress: Botpress,
        store: Store,
        actions: ActionCaller,
        config: PluginConfig,
        *,
        on_session_ended: SessionEnded,
        schedule: Schedule,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bp = botpress
        self._memory = PluginMemory(store)
        self._actions = actions
        self.config = config
        self._on_session_ended = on_session_ended
        self._schedule = schedule
        self._clock = clock
        self._alias = botpress.identity.integration_alias
        self._definition = botpress.definition

    async def session(self, upstream_conversation_id: str) -> Record | None:
        """The latest session of an upstream conversation."""
        return await self._memory.session(upstream_conversation_id)

    async def _last_user_message_id(self, conversation_id: str) -> str | None:
        messages = await self._bp.messages.select({"conversationId": conversation_id})
        incoming = [message for message in newest_first(messages) if message["direction"] == "incoming"]
        return incoming[0]["id"] if incoming else None

    async def _downstream_user(self, upstream_user_id: str) -> str:
        link = await self._memory.downstream_user(upstream_user_id)
        if link and link["integrationAlias"] == self._alias and await self._bp.users.find(link["downstreamUserId"]):
            return str(link["downstreamUserId"])
        user = await self._bp.users.get(upstream_user_id)
        tags = user.get("tags", {})
        create_input = {"name": tags.get("name") or user.get("name") or "Unknown User"}
        picture_url = tags.get("pictureUrl") or user.get("pictureUrl")
        if picture_url:
            create_input["pictureUrl"] = picture_url
        bot_domain = self._bp.identity.bot_id.replace("_", "-")
        create_input["email"] = tags.get("email") or f"{upstream_user_id}@no-reply.{bot_domain}.botpress.com"
        output = await self._actions.call_action(self._definition.renames.action("createUser"), create_input)
        downstream_user_id = str(output.get("userId"))
        await self._bp.users.get(downstream_user_id)
        await self._memory.link_user(upstream_user_id, downstream_user_id, self._alias)
        return downstream_user_id

    async def _history(self, upstream_conversation_id: str) -> list[dict[str, Any]]:
        messages = newest_first(await self._bp.messages.select({"conversationId": upstream_conversation_id}))
        history = []
        for message in reversed(messages[:HISTORY_PAGE]):
            if message["direction"] == "outgoing":
                source: dict[str, str] = {"type": "bot"}
            else:
                source = {"type": "user", "userId": await self._downstream_user(message["userId"])}
            history.append({"source": source, "type": message["type"], "payload": message["payload"]})
        return history

    async def _link_conversations(self, upstream_id: str, downstream_id: str) -> None:
        """Tag each side with the other's id, as step 12 of the real ``startHitl`` does.

        The integration holds its events until the downstream tag is there: the plugin drops the events of
        a conversation it has not taken yet.
        """
        await self._bp.update_conversation(upstream_id, {f"{PLUGIN_ALIAS}#downstream": downstream_id})
        await self._bp.update_conversation(downstream_id, {f"{PLUGIN_ALIAS}#upstream": upstream_id})

    def session_config(self, session: Record) -> PluginConfig:
        """The configuration a session was started with."""
        return PluginConfig.model_validate(session.get("config") or {})

    async def _say(self, conversation_id: str, config: PluginConfig, field: TextField) -> None:
        text = config.text(field)
        if text is not None:
            await self._post(conversation_id, text)

    async def _post(self, conversation_id: str, text: str, *, tags: dict[str, str] | None = None) -> None:
        await self._bp.create_message(
            conversation_id,
            self._bp.identity.bot_user_id,
            "text",
            {"text": text},
            tags or {},
            by_integration=False,
        )

    async def _deactivate(self, session: Record, reason: str) -> None:
        await self._memory.update_session(session["upstreamConversationId"], active=False, endReason=reason)

    async def _stop_integration_session(self, session: Record) -> None:
        try:
            await self._actions.call_action(
                self._definition.renames.action("stopHitl"), {"conversationId": session["downstreamConversationId"]}
            )
        except IntegrationCallError as exc:
            log.warning("sandbox plugin: stopHitl failed: %s", exc)

    async def _continue_workflow(self, session: Record) -> None:
        if self.session_config(session).flow_on_hitl_stopped:
            await self._on_session_ended(session["upstreamConversationId"])
