"""The parent message's state part: Claim and Close while open, "Claimed by <name>" and Close once claimed, a
closed line and no buttons once closed.

``chat.update`` replaces a message whole, so the edit starts from the parent's blocks as Slack has them: those a
button click carries (``message.blocks``, kept in the session data as ``parent_blocks``/``parent_text`` when the
click is parsed), or those ``open_session`` kept there. The state part (the bridge's ``actions`` block and its
``hitl_state`` line) is dropped and rendered again from the session data, so the edit is a pure function of what is
stored: repeating it, or making it after a newer change, shows the newest state and nothing twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from .webhooks import split_session_id

if TYPE_CHECKING:
    from .adapter import SlackAdapter

log = logging.getLogger(__name__)
CLAIM_ACTION = "hitl_claim"
CLOSE_ACTION = "hitl_close"
STATE_BLOCK_ID = "hitl_state"
ACTIONS_BLOCK_ID = "hitl_actions"
OUR_ACTIONS = frozenset({CLAIM_ACTION, CLOSE_ACTION})


def state_blocks(session_id: str, record: dict[str, JsonValue]) -> list[dict[str, Any]]:
    """The state part of the parent for ``record``: buttons and/or a context line."""
    name = str(record.get("claimed_by_name") or record.get("claimed_by") or "")
    if record.get("closed"):
        line = f"Closed · handled by {name}" if name else "Closed"
        return [_context(line)]
    if name:
        return [_context(f"Claimed by {name}"), _actions(session_id, claim=False)]
    return [_actions(session_id, claim=True)]


def parent_view(session_id: str, record: dict[str, JsonValue], blocks: list[Any]) -> list[dict[str, Any]]:
    """``blocks`` (the parent's) with their state part rendered again from ``record``."""
    kept = [block for block in blocks if isinstance(block, dict) and not _is_state(block)]
    return kept + state_blocks(session_id, record)


def _is_state(block: dict[str, Any]) -> bool:
    if block.get("block_id") in (STATE_BLOCK_ID, ACTIONS_BLOCK_ID):
        return True
    elements = block.get("elements") if block.get("type") == "actions" else None
    return any(isinstance(e, dict) and e.get("action_id") in OUR_ACTIONS for e in elements or [])


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "block_id": STATE_BLOCK_ID, "elements": [{"type": "mrkdwn", "text": text}]}


def _actions(session_id: str, *, claim: bool) -> dict[str, Any]:
    buttons = [_button("Claim", CLAIM_ACTION, session_id, "primary")] if claim else []
    buttons.append(_button("Close", CLOSE_ACTION, session_id, "danger"))
    return {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": buttons}


def _button(text: str, action_id: str, session_id: str, style: str) -> dict[str, Any]:
    label = {"type": "plain_text", "text": text}
    return {"type": "button", "text": label, "action_id": action_id, "value": session_id, "style": style}


async def show_state(adapter: SlackAdapter, session_id: str) -> None:
    """Edit the parent of ``session_id`` to show its state (``chat.update``: idempotent, see the module doc).

    A parent whose blocks the bridge does not know yet (claimed by a reply before any click) keeps its look
    until the next click on it; the claim itself is already made and applied.
    """
    record = await adapter.context.sessions.get(session_id)
    where = split_session_id(session_id)
    blocks = record.get("parent_blocks") if record is not None else None
    if record is None or where is None or not isinstance(blocks, list):
        log.info("slack: parent of %s not edited (its blocks are not known yet)", session_id)
        return
    text = str(record.get("parent_text") or "Handoff")
    await adapter.client.update_message(where[0], where[1], text, parent_view(session_id, record, blocks))
