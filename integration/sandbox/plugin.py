"""The emulated Botpress HITL plugin (hitl-behaviour.md §2), driven by what the integration does.

It links the end user (``createUser``), opens the session (``startHitl`` with the upstream history), relays
messages both ways while the session is active, reacts to ``hitlAssigned``/``hitlStopped``, the close command
and the assignment timeout, and speaks the configurable texts (``"NULL"`` suppresses one).

Deliberate differences from the real plugin: a failed ``createUser``/``startHitl`` is told to the end user
instead of leaving them with "escalated"; no webchat impersonation and no typing indicator.
"""

from __future__ import annotations

import logging
from typing import Any

from bp_modules.hitl import HITL_MESSAGE_TYPES

from .plugin_base import NOT_CONNECTED_TEXT, UNSUPPORTED_TYPE_TEXT, PluginBase
from .runtime import IntegrationCallError
from .runtime_api.errors import ApiError
from .store import Record

log = logging.getLogger(__name__)


class HitlPlugin(PluginBase):
    """One plugin instance bound to the sandbox's one hitl integration."""

    # 2.1 start

    async def start_hitl(
        self,
        upstream_conversation_id: str,
        upstream_user_id: str,
        *,
        title: str,
        description: str | None = None,
        hitl_session: dict[str, Any] | None = None,
        configuration_overrides: dict[str, Any] | None = None,
    ) -> None:
        """The plugin's ``startHitl`` action: hand the upstream conversation over to a human agent."""
        last_user_message_id = await self._last_user_message_id(upstream_conversation_id)
        if not await self._may_start(upstream_conversation_id, last_user_message_id):
            return
        config = self.config.merged(configuration_overrides)
        await self._say(upstream_conversation_id, config, "on_hitl_handoff_message")
        start_input: dict[str, Any] = {"title": title}
        start_input.update(
            {k: v for k, v in (("description", description), ("hitlSession", hitl_session)) if v is not None}
        )
        try:
            downstream_user_id, downstream = await self._open(upstream_conversation_id, upstream_user_id, start_input)
        except (IntegrationCallError, ApiError) as exc:
            log.warning("sandbox plugin: startHitl failed: %s", exc)
            await self._post(upstream_conversation_id, f"Sorry, I could not reach a human agent ({exc}).")
            return
        await self._link_conversations(upstream_conversation_id, downstream["id"])
        session = {
            "upstreamConversationId": upstream_conversation_id,
            "downstreamConversationId": downstream["id"],
            "upstreamUserId": upstream_user_id,
            "downstreamUserId": downstream_user_id,
            "active": True,
            "humanAgentId": None,
            "humanAgentName": None,
            "startedAt": self._clock(),
            "startMessageId": last_user_message_id,
            "endReason": None,
            "config": config.model_dump(by_alias=True),
        }
        await self._memory.save_session(session)
        self._schedule_assignment_timeout(session, config.agent_assigned_timeout_seconds)

    async def _may_start(self, upstream_conversation_id: str, last_user_message_id: str | None) -> bool:
        # The plugin's guards: never inside a ticket, never twice at once, never twice for the same user message.
        conversation = await self._bp.conversations.get(upstream_conversation_id)
        previous = await self._memory.session(upstream_conversation_id)
        if conversation["integration"] == self._alias or (previous and previous["active"]):
            return False
        replayed = previous and last_user_message_id and previous.get("startMessageId") == last_user_message_id
        return not replayed

    async def _open(
        self, upstream_conversation_id: str, upstream_user_id: str, start_input: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Link the user, then call the integration's startHitl; return the downstream user and conversation."""
        downstream_user_id = await self._downstream_user(upstream_user_id)
        start_input = {
            **start_input,
            "userId": downstream_user_id,
            "messageHistory": await self._history(upstream_conversation_id),
        }
        output = await self._actions.call_action(self._definition.renames.action("startHitl"), start_input)
        return downstream_user_id, await self._bp.conversations.get(str(output.get("conversationId")))

    def _schedule_assignment_timeout(self, session: dict[str, Any], seconds: float) -> None:
        if seconds > 0:
            upstream_id, downstream_id = session["upstreamConversationId"], session["downstreamConversationId"]
            started = session["startedAt"]
            self._schedule(seconds, lambda: self.assignment_timeout(upstream_id, downstream_id, started))

    async def stop_hitl(self, upstream_conversation_id: str) -> None:
        """The plugin's ``stopHitl`` action: tell the agent, close both sides and the ticket; nothing to the user."""
        session = await self._memory.session(upstream_conversation_id)
        if session is None or not session["active"]:
            return
        await self._say(
            session["downstreamConversationId"], self.session_config(session), "on_user_hitl_cancelled_message"
        )
        await self._deactivate(session, "close-action-called")
        await self._stop_integration_session(session)

    # 2.3 / 2.4 messages

    async def before_incoming_message(self, message: Record, conversation: Record) -> bool:
        """Handle an incoming message if it belongs to a session; whether it was swallowed (the bot must not see it)."""
        if conversation["integration"] == self._alias:
            await self._from_agent(message, conversation)
            return True
        session = await self._memory.session(conversation["id"])
        if session is None or not session["active"]:
            return False
        await self._from_user(message, session)
        return True

    async def _from_user(self, message: Record, session: Record) -> None:
        upstream_id = session["upstreamConversationId"]
        if message["type"] not in HITL_MESSAGE_TYPES:
            await self._post(upstream_id, UNSUPPORTED_TYPE_TEXT)
            return
        link = await self._memory.downstream_user(message["userId"])
        if link is None:
            await self._deactivate(session, "internal-error")
            await self._post(upstream_id, NOT_CONNECTED_TEXT)
            return
        text = message["payload"].get("text") if message["type"] == "text" else None
        if isinstance(text, str) and text.strip().lower() == self.session_config(session).close_command:
            await self._end_by_user(session)
            return
        payload = {**message["payload"], "type": message["type"], "userId": link["downstreamUserId"]}
        await self._bp.create_message(
            session["downstreamConversationId"],
            self._bp.identity.bot_user_id,
            message["type"],
            payload,
            {},
            by_integration=False,
        )

    async def _from_agent(self, message: Record, conversation: Record) -> None:
        session = await self._memory.session_by_downstream(conversation["id"])
        if session is None or not session["active"]:
            return
        if message["type"] not in HITL_MESSAGE_TYPES:
            await self._say(conversation["id"], self.session_config(session), "on_incompatible_msg_type_message")
            return
        if not session.get("humanAgentId"):
            session = await self._assign(session, message["userId"])
        tags = {"downstream": message["id"]}
        additional_data = message["payload"].get("additionalData")
        if isinstance(additional_data, str) and additional_data:
            tags["additionalData"] = additional_data
        # As the plugin: {...payload, type, userId: <webchat user> | undefined}; additionalData stays in the payload.
        payload = {key: value for key, value in message["payload"].items() if key != "userId"}
        await self._bp.create_message(
            session["upstreamConversationId"],
            self._bp.identity.bot_user_id,
            message["type"],
            {**payload, "type": message["type"]},
            tags,
            by_integration=False,
        )

    # 2.2 / 2.5a events

    async def before_incoming_event(self, event: Record) -> str:
        """Handle an event the integration emitted; the status it ends with (``processed`` or ``ignored``)."""
        payload = event["payload"]
        session = await self._memory.session_by_downstream(str(payload.get("conversationId")))
        if session is None or not session["active"]:
            return "ignored"
        if event["type"] == self._definition.event_name("hitlAssigned"):
            await self._assign(session, str(payload.get("userId")))
        elif event["type"] == self._definition.event_name("hitlStopped"):
            await self._stopped_by_agent(session)
        else:
            return "ignored"
        return "processed"

    async def _assign(self, session: Record, agent_user_id: str) -> Record:
        agent = await self._bp.users.find(agent_user_id)
        name = (agent or {}).get("name") or "A Human Agent"
        updated = await self._memory.update_session(
            session["upstreamConversationId"], humanAgentId=agent_user_id, humanAgentName=name
        )
        await self._say(
            session["upstreamConversationId"], self.session_config(session), "on_human_agent_assigned_message"
        )
        return updated or session

    async def _stopped_by_agent(self, session: Record) -> None:
        await self._say(session["upstreamConversationId"], self.session_config(session), "on_hitl_stopped_message")
        await self._deactivate(session, "agent-closed-ticket")
        await self._continue_workflow(session)

    # 2.5b / 2.5d endings

    async def _end_by_user(self, session: Record) -> None:
        config = self.session_config(session)
        await self._say(session["downstreamConversationId"], config, "on_user_hitl_cancelled_message")
        await self._deactivate(session, "patient-used-termination-command")
        await self._stop_integration_session(session)
        await self._say(session["upstreamConversationId"], config, "on_user_hitl_close_message")
        await self._continue_workflow(session)

    async def assignment_timeout(self, upstream_id: str, downstream_id: str, started_at: float) -> None:
        """The scheduled check: end the session if still no agent was assigned (stale checks do nothing)."""
        session = await self._memory.session(upstream_id)
        if session is None or not session["active"] or session.get("humanAgentId"):
            return
        if session["downstreamConversationId"] != downstream_id or session["startedAt"] != started_at:
            return
        config = self.session_config(session)
        if self._clock() - started_at < config.agent_assigned_timeout_seconds:
            return
        await self._say(downstream_id, config, "on_user_hitl_cancelled_message")
        await self._deactivate(session, "agent-assignment-timeout")
        await self._stop_integration_session(session)
        await self._say(upstream_id, config, "on_agent_assigned_timeout_message")
        await self._continue_workflow(session)
