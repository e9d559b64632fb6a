"""What Botpress sees of this integration: pure data, no I/O."""

from .build import NAME_PREFIX, build_definition, integration_name, with_interface_id
from .configuration import ADAPTER_PROPERTY, configuration_schema
from .interface import (
    HIDDEN_IN_STUDIO,
    action_definitions,
    channel_definitions,
    event_definitions,
    interface_key,
    interface_statement,
)
from .json_schema import DRAFT_07, inline_refs, wire_schema
from .renames import Renames
from .states import (
    HITL_SESSION_STATE,
    HITL_START_STATE,
    OWN_STATES,
    HitlSessionState,
    HitlStartState,
    StateType,
    state_definitions,
)
from .tags import (
    CONVERSATION_ID_TAG,
    CONVERSATION_TAGS,
    MESSAGE_ID_TAG,
    MESSAGE_TAGS,
    USER_CREATE_KEY_TAG,
    USER_EMAIL_TAG,
    USER_ID_TAG,
    USER_TAGS,
    tag_definitions,
)

__all__ = [
    "ADAPTER_PROPERTY",
    "CONVERSATION_ID_TAG",
    "CONVERSATION_TAGS",
    "DRAFT_07",
    "HIDDEN_IN_STUDIO",
    "HITL_SESSION_STATE",
    "HITL_START_STATE",
    "MESSAGE_ID_TAG",
    "MESSAGE_TAGS",
    "NAME_PREFIX",
    "OWN_STATES",
    "USER_CREATE_KEY_TAG",
    "USER_EMAIL_TAG",
    "USER_ID_TAG",
    "USER_TAGS",
    "HitlSessionState",
    "HitlStartState",
    "Renames",
    "StateType",
    "action_definitions",
    "build_definition",
    "channel_definitions",
    "configuration_schema",
    "event_definitions",
    "inline_refs",
    "integration_name",
    "interface_key",
    "interface_statement",
    "state_definitions",
    "tag_definitions",
    "wire_schema",
    "with_interface_id",
]
