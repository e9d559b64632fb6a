"""The states this integration declares: our own two, plus whatever the adapter keeps per installation.

* ``hitlStart`` (user state): the user's last ``startHitl``, so a retried call returns the same
  conversation instead of opening a second helpdesk session, as long as that session is open. The bridge now
  keeps this record in the coordinator's memo (``integration/hitl/sessions.py``: no upstream call); the state
  stays declared, in the same shape, so that a deployed definition does not change with this version.
* ``hitlSession`` (conversation state): which helpdesk session a hitl conversation stands for, who is
  assigned, whether it ended, and the keys of recent helpdesk events (to drop redeliveries).
* Adapter states (``HelpdeskAdapter.states``) are integration states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from .json_schema import wire_schema

StateType = Literal["conversation", "user", "integration"]

HITL_START_STATE: Final = "hitlStart"
HITL_SESSION_STATE: Final = "hitlSession"


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)


class HitlStartState(_State):
    """User state ``hitlStart``: the user's last startHitl, resumed by a retry while its session is open.

    ``session_key`` is minted fresh for each new session and saved before the helpdesk opens anything, so a
    crash between the two is resumed under the same key; once the session closed, the same input gets a new key.
    """

    input_hash: str = Field(alias="inputHash", description="Hash of the startHitl input this record answers")
    session_key: str = Field(
        alias="sessionKey", description="Idempotency key the helpdesk got for this session (fresh for each session)"
    )
    external_session_id: str | None = Field(
        default=None, alias="externalSessionId", description="Helpdesk id of the session, once opened"
    )
    conversation_id: str | None = Field(
        default=None, alias="conversationId", description="Botpress conversation created for it, once known"
    )


class HitlSessionState(_State):
    """Conversation state ``hitlSession``: the helpdesk session behind a hitl conversation."""

    external_session_id: str = Field(alias="externalSessionId", description="Helpdesk id of the session")
    assigned_agent_id: str | None = Field(
        default=None, alias="assignedAgentId", description="Botpress user id of the assigned human agent"
    )
    closed: bool = Field(default=False, description="Whether the session has ended")
    recent_event_keys: list[str] = Field(
        default_factory=list, alias="recentEventKeys", description="Keys of recent helpdesk events, to drop repeats"
    )


OWN_STATES: Final[Mapping[str, tuple[StateType, type[BaseModel]]]] = {
    HITL_START_STATE: ("user", HitlStartState),
    HITL_SESSION_STATE: ("conversation", HitlSessionState),
}


def state_definitions(adapter_states: Mapping[str, type[BaseModel]]) -> dict[str, dict[str, Any]]:
    """The ``states`` of the definition: ours, then the adapter's as integration states.

    Raises:
        ValueError: an adapter state reuses one of our state names.
    """
    clashes = sorted(set(adapter_states) & set(OWN_STATES))
    if clashes:
        raise ValueError(f"adapter states {clashes} clash with the integration's own states")
    declared: dict[str, tuple[StateType, type[BaseModel]]] = dict(OWN_STATES)
    declared.update((name, ("integration", model)) for name, model in adapter_states.items())
    return {name: {"type": kind, "schema": wire_schema(model)} for name, (kind, model) in declared.items()}
