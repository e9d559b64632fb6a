"""What the adapter keeps per session in ``context.sessions`` (the coordination store), and its changes.

The session id is ``"<channel_id>:<parent_ts>"``. Its record holds ``channel_id``, ``parent_ts``,
``bp_conversation_id`` (once linked), ``claimed_by`` (a Slack user id, or ``None``), ``claimed_by_name``,
``closed``, and what the parent message shows (``title``, ``description``, ``priority``, ``tags``, ``mention``,
``transcript_head``, ``transcript_more``), so that :func:`.parent.render_parent` can draw it again on a claim or a
close. Every change is a pure function of the stored record (it may run again: see
:meth:`~external_adapters.base.SessionDataStore.update`).
"""

from __future__ import annotations

import re

from pydantic import JsonValue

from ..base import SessionDataChange

Record = dict[str, JsonValue]
_SESSION_ID = re.compile(r"^([CG][A-Z0-9]{2,30}):(\d{1,12}\.\d{1,9})$")


def session_id(channel_id: str, parent_ts: str) -> str:
    """The helpdesk session id of the thread under ``parent_ts`` in ``channel_id``."""
    return f"{channel_id}:{parent_ts}"


def parse_session_id(external_session_id: str) -> tuple[str, str] | None:
    """``(channel_id, parent_ts)`` of a session id, or ``None`` when it is not one of ours."""
    match = _SESSION_ID.match(external_session_id)
    return (match.group(1), match.group(2)) if match else None


def opened(record: Record) -> SessionDataChange:
    """Store a newly opened session's record; a repeat keeps what happened since (link, claim, close)."""

    def change(stored: Record | None) -> Record:
        return {**record, **(stored or {})}

    return change


def linked(bp_conversation_id: str) -> SessionDataChange:
    """Record the Botpress conversation of the session."""

    def change(stored: Record | None) -> Record:
        return {**(stored or {}), "bp_conversation_id": bp_conversation_id}

    return change


def closing() -> SessionDataChange:
    """Mark the session closed (a missing record stays missing)."""

    def change(stored: Record | None) -> Record | None:
        return None if stored is None else {**stored, "closed": True}

    return change


def claiming(slack_user_id: str, name: str) -> SessionDataChange:
    """Set the claim if nobody holds it (first wins); a closed or missing session is left as it is."""

    def change(stored: Record | None) -> Record | None:
        if stored is None or stored.get("closed") or stored.get("claimed_by"):
            return stored
        return {**stored, "claimed_by": slack_user_id, "claimed_by_name": name}

    return change
