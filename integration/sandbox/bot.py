"""The sandbox's bot: a small scripted bot behind the HITL plugin.

It greets, answers a few keywords, and hands the conversation to a human when the user asks for one
("human", "agent", "person", or a command such as ``/human``). While a session is active the plugin swallows
the user's messages, so the bot is quiet; when the session ends, the bot picks up again.
"""

from __future__ import annotations

import logging
import re

from .inbox import BotInbox
from .plugin import HitlPlugin
from .runtime_api import Botpress
from .store import Record

log = logging.getLogger(__name__)

HANDOFF = re.compile(r"^/(human|agent|handoff)\b|\b(human|agent|person|someone real|real person)\b", re.IGNORECASE)
GREETING = re.compile(r"\b(hi|hello|hey|bonjour|good (morning|afternoon|evening))\b", re.IGNORECASE)
ANSWERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(hours?|open)\b", re.I), "We are open Monday to Friday, 9:00 to 17:00."),
    (re.compile(r"\b(price|pricing|cost)\b", re.I), "Plans start at 10 € a month; an agent can tell you more."),
    (re.compile(r"\b(refund|return)\b", re.I), "Refunds take 5 business days. Type 'human' if you need an agent."),
    (re.compile(r"\b(help|\?)$", re.I), "I can tell you our hours or prices, or get you a human: type 'human'."),
)
WELCOME = "Hi! I am the sandbox bot. Ask me about our hours or prices, or type 'human' to talk to an agent."
FALLBACK = "I am only a small scripted bot. Type 'human' (or /human) to talk to a person."
WELCOME_BACK = "I am back. Is there anything else I can do for you?"


class SandboxBot:
    """Listens to the emulated Botpress and answers on the sandbox's chat channel."""

    def __init__(self, botpress: Botpress, plugin: HitlPlugin, inbox: BotInbox) -> None:
        self._bp = botpress
        self._plugin = plugin
        self._inbox = inbox

    async def message_created(self, message: Record, conversation: Record, by_integration: bool) -> None:
        """Listener: incoming messages go through the plugin, then (if not swallowed) to the bot."""
        if message["direction"] == "incoming":
            self._inbox.submit(lambda: self._incoming(message, conversation))

    async def event_created(self, event: Record, by_integration: bool) -> None:
        """Listener: events the integration emits go to the plugin."""
        if by_integration:
            self._inbox.submit(lambda: self._event(event))

    async def session_ended(self, upstream_conversation_id: str) -> None:
        """The plugin's ``continueWorkflow``: the bot takes the conversation back."""
        await self.say(upstream_conversation_id, WELCOME_BACK)

    async def say(self, conversation_id: str, text: str) -> None:
        """Write a text message as the bot."""
        user_id = self._bp.identity.bot_user_id
        await self._bp.create_message(conversation_id, user_id, "text", {"text": text}, {}, by_integration=False)

    async def _incoming(self, message: Record, conversation: Record) -> None:
        if await self._plugin.before_incoming_message(message, conversation):
            return
        if conversation["integration"] == self._bp.identity.integration_alias:
            return
        await self._answer(message, conversation)

    async def _event(self, event: Record) -> None:
        status = await self._plugin.before_incoming_event(event)
        await self._bp.set_event_status(event["id"], status)

    async def _answer(self, message: Record, conversation: Record) -> None:
        text = str(message["payload"].get("text", "")) if message["type"] == "text" else ""
        if HANDOFF.search(text):
            await self._hand_off(message, conversation, text)
        elif GREETING.search(text):
            await self.say(conversation["id"], WELCOME)
        else:
            reply = next((answer for pattern, answer in ANSWERS if pattern.search(text)), FALLBACK)
            await self.say(conversation["id"], reply)

    async def _hand_off(self, message: Record, conversation: Record, text: str) -> None:
        user = await self._bp.users.get(message["userId"])
        name = user.get("name") or "a sandbox user"
        await self._plugin.start_hitl(
            conversation["id"],
            message["userId"],
            title=f"Sandbox chat with {name}",
            description=f"The user asked: {text}"[:500],
        )
