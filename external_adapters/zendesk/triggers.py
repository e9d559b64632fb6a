"""The trigger templates :meth:`ZendeskAdapter.subscribe` creates.

Each trigger calls our webhook with a small JSON body of ids only (``{{ticket.id}}``,
``{{current_user.id}}``, the newest public comment's id): Zendesk renders placeholders as text, and free
text (names, comment bodies) could break the JSON. The adapter reads the rest back through the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .models import TriggerInput
from .webhooks import PAYLOAD_VERSION

TriggerEvent = Literal["comment", "assigned", "solved"]
VIA_API = "5"  # current_via_id 5 = "Web service / API": what this adapter itself writes
TITLE_PREFIX = "hitl-bridge"
COMMENT_ID_PLACEHOLDER = "{{ticket.public_comments[0].id}}"


@dataclass(frozen=True)
class TriggerTemplate:
    """One trigger: the event it reports and the conditions (besides the marker tag) that fire it."""

    event: TriggerEvent
    description: str
    all_conditions: tuple[dict[str, Any], ...]
    any_conditions: tuple[dict[str, Any], ...] = ()


TEMPLATES: tuple[TriggerTemplate, ...] = (
    TriggerTemplate(
        event="comment",
        description="A public comment by an agent, not made through the API (loop prevention)",
        all_conditions=(
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "comment_is_public", "operator": "is", "value": "requester_can_see_comment"},
            {"field": "current_via_id", "operator": "is_not", "value": VIA_API},
            {"field": "role", "operator": "is_not", "value": "end_user"},
        ),
    ),
    TriggerTemplate(
        event="assigned",
        description="The assignee changed",
        all_conditions=(
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "assignee_id", "operator": "changed"},
        ),
    ),
    TriggerTemplate(
        event="solved",
        description="The ticket became solved or closed, not through the API",
        all_conditions=(
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "status", "operator": "changed"},
            {"field": "current_via_id", "operator": "is_not", "value": VIA_API},
        ),
        any_conditions=(
            {"field": "status", "operator": "is", "value": "solved"},
            {"field": "status", "operator": "is", "value": "closed"},
        ),
    ),
)


def payload_template(event: TriggerEvent, marker: str) -> str:
    """The webhook body a trigger sends, with Zendesk placeholders.

    Comment and solve payloads name the newest public comment (the Liquid form Botpress's own Zendesk
    integration uses), so a late delivery can still find its comment on a busy ticket.
    """
    body = {
        "v": PAYLOAD_VERSION,
        "event": event,
        "ticketId": "{{ticket.id}}",
        "marker": marker,
        "currentUserId": "{{current_user.id}}",
    }
    if event != "assigned":
        body["commentId"] = COMMENT_ID_PLACEHOLDER
    return json.dumps(body, separators=(",", ":"))


def build_trigger(template: TriggerTemplate, webhook_id: str, marker: str, only_marked: bool) -> TriggerInput:
    """The ``POST /api/v2/triggers`` body for ``template``.

    With ``only_marked`` the trigger fires only for tickets that carry the marker tag, i.e. the
    tickets this installation opened.
    """
    conditions = list(template.all_conditions)
    if only_marked:
        conditions.append({"field": "current_tags", "operator": "includes", "value": marker})
    return TriggerInput(
        title=f"{TITLE_PREFIX} {marker} {template.event}",
        description=template.description,
        conditions={"all": conditions, "any": list(template.any_conditions)},
        actions=[
            {"field": "notification_webhook", "value": [webhook_id, payload_template(template.event, marker)]},
        ],
    )
