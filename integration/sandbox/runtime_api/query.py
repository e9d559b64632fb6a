"""Query strings of the list endpoints: tag filters (``tags.<key>=value``), dates, sorting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from multidict import MultiMapping

from ..ids import parse_iso
from ..store import Record
from .errors import ApiError
from .records import newest_first


def tag_filter(query: MultiMapping[str]) -> dict[str, str]:
    """Tag filters as the client sends them (``tags.id=1``; ``tags[id]=1`` is accepted too)."""
    tags: dict[str, str] = {}
    for key, value in query.items():
        if key.startswith("tags.") and len(key) > 5:
            tags[key[5:]] = value
        elif key.startswith("tags[") and key.endswith("]") and len(key) > 6:
            tags[key[5:-1]] = value
    return tags


def choice(query: MultiMapping[str], name: str, allowed: tuple[str, ...], default: str) -> str:
    """The parameter's value, which must be one of ``allowed``."""
    value = query.get(name, default)
    if value not in allowed:
        raise ApiError("InvalidQuery", f"{name}: must be one of {list(allowed)}, got {value!r}")
    return value


def in_date_range(records: Iterable[Record], query: MultiMapping[str], field: str = "createdAt") -> list[Record]:
    """Records whose ``field`` lies within ``afterDate``/``beforeDate`` (both optional, exclusive)."""
    after, before = _date(query, "afterDate"), _date(query, "beforeDate")
    kept = []
    for record in records:
        moment = parse_iso(str(record.get(field, "")))
        if moment is None or (after and moment <= after) or (before and moment >= before):
            continue
        kept.append(record)
    return kept


def _date(query: MultiMapping[str], name: str) -> datetime | None:
    if name not in query:
        return None
    moment = parse_iso(query[name])
    if moment is None:
        raise ApiError("InvalidQuery", f"{name}: not an ISO 8601 date-time: {query[name]!r}")
    return moment


def sorted_by_query(records: list[Record], query: MultiMapping[str]) -> list[Record]:
    """Sorted by ``sortField`` (``createdAt`` by default) in ``sortDirection`` (``desc`` by default)."""
    field = choice(query, "sortField", ("createdAt", "updatedAt"), "createdAt")
    direction = choice(query, "sortDirection", ("asc", "desc"), "desc")
    return newest_first(records, field, descending=direction == "desc")
