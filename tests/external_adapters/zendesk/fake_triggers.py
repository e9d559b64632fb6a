"""The part of Zendesk's trigger engine the fake needs: the conditions the adapter's triggers use."""

from __future__ import annotations

from typing import Any


def matches(
    conditions: dict[str, list[dict[str, Any]]],
    ticket: dict[str, Any],
    change: dict[str, Any],
    users: dict[int, dict[str, Any]],
) -> bool:
    """Whether a trigger with ``conditions`` fires for ``change`` on ``ticket`` (its stored fields)."""
    checks = [_condition(c, ticket, change, users) for c in conditions.get("all", [])]
    any_checks = [_condition(c, ticket, change, users) for c in conditions.get("any", [])]
    return all(checks) and (not any_checks or any(any_checks))


def _condition(
    c: dict[str, Any], ticket: dict[str, Any], change: dict[str, Any], users: dict[int, dict[str, Any]]
) -> bool:
    field_name, operator, value = c["field"], c["operator"], c.get("value")
    if field_name == "update_type":
        return value == "Change"
    if field_name == "comment_is_public":
        return bool(change.get("comment") and change.get("public"))
    if field_name == "current_via_id":
        via_id = "5" if change.get("via") == "api" else "0"
        return bool((via_id == value) == (operator == "is"))
    if field_name == "role":
        role = users[change["user"]]["role"].replace("-", "_")
        return bool((role == value) == (operator == "is"))
    if field_name == "assignee_id" and operator == "changed":
        return bool(change.get("assignee_changed"))
    if field_name == "status" and operator == "changed":
        return bool(change.get("status_changed"))
    if field_name == "status":
        return bool((ticket["status"] == value) == (operator == "is"))
    if field_name == "current_tags" and operator == "includes":
        return all(tag in ticket.get("tags", []) for tag in str(value).split())
    raise AssertionError(f"the fake does not know the trigger condition {c}")
