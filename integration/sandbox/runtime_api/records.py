"""Records of the emulated Botpress: ids, tags, lookups and pagination shared by every resource."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..ids import new_id, now_iso
from ..store import Record, Store
from .errors import ApiError, invalid_payload, not_found

PAGE_SIZE = 20
KEEP_NULL = frozenset({"failureReason"})
"""Fields the API always shows, ``null`` included (the others are left out when unset)."""


def clean_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags as stored on create: an empty value means "not set"."""
    return {key: value for key, value in tags.items() if value != ""}


def merge_tags(current: Mapping[str, str], patch: Mapping[str, str]) -> dict[str, str]:
    """``current`` updated by ``patch``, where an empty value unsets the tag."""
    merged = dict(current)
    for key, value in patch.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def tags_match(tags: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether every wanted tag has exactly the wanted value."""
    return all(tags.get(key) == value for key, value in wanted.items())


def discriminating_tags(tags: Mapping[str, str], discriminate_by: list[str] | None) -> dict[str, str]:
    """The tags a get-or-create matches on: the named ones, or all given ones when none are named."""
    if discriminate_by is None:
        return clean_tags(tags)
    missing = [key for key in discriminate_by if not tags.get(key)]
    if missing:
        raise invalid_payload(f"discriminateByTags: tag {missing[0]!r} has no value in tags")
    return {key: tags[key] for key in discriminate_by}


def public(record: Record) -> Record:
    """The record as the API shows it: internal ``_`` fields and unset optional fields left out."""
    return {
        key: value
        for key, value in record.items()
        if not key.startswith("_") and (value is not None or key in KEEP_NULL)
    }


class Collection:
    """One resource kind in the store (users, conversations, messages, events)."""

    def __init__(self, store: Store, kind: str, prefix: str, label: str) -> None:
        self.store = store
        self.kind = kind
        self.prefix = prefix
        self.label = label

    async def insert(self, fields: Mapping[str, Any], *, ident: str | None = None) -> Record:
        """Store a new record with a fresh id and timestamps, and return it."""
        stamp = now_iso()
        record: Record = {"id": ident or new_id(self.prefix), "createdAt": stamp, "updatedAt": stamp, **fields}
        await self.store.put(self.kind, record["id"], record)
        return record

    async def get(self, ident: str) -> Record:
        """The record, or a 404 ``ResourceNotFound``."""
        record = await self.store.get(self.kind, ident)
        if record is None:
            raise not_found(self.label, ident)
        return record

    async def find(self, ident: str) -> Record | None:
        """The record, or ``None``."""
        return await self.store.get(self.kind, ident)

    async def save(self, record: Record, *, touch: bool = True) -> Record:
        """Write back a changed record (bumping ``updatedAt``) and return it."""
        if touch:
            record["updatedAt"] = now_iso()
        await self.store.put(self.kind, record["id"], record)
        return record

    async def delete(self, ident: str) -> None:
        """Remove the record, or 404."""
        if not await self.store.delete(self.kind, ident):
            raise not_found(self.label, ident)

    async def select(self, where: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> list[Record]:
        """Records whose fields equal ``where`` and whose tags include ``tags``, oldest first."""
        return [
            record
            for record in await self.store.all(self.kind)
            if all(record.get(key) == value for key, value in where.items())
            and tags_match(record.get("tags", {}), tags or {})
        ]


def newest_first(records: Iterable[Record], field: str = "createdAt", descending: bool = True) -> list[Record]:
    """Sorted by ``field``; ties keep the newest insertion first when descending (the API's default order)."""
    ordered = list(records)
    if descending:
        ordered.reverse()
    return sorted(ordered, key=lambda record: str(record.get(field, "")), reverse=descending)


def page(records: list[Record], next_token: str | None) -> tuple[list[Record], dict[str, str]]:
    """One page of at most ``PAGE_SIZE`` records and its ``meta`` (with ``nextToken`` when more remain)."""
    offset = _offset(next_token) if next_token else 0
    chunk = records[offset : offset + PAGE_SIZE]
    meta: dict[str, str] = {}
    if offset + PAGE_SIZE < len(records):
        meta["nextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + PAGE_SIZE}).encode()).decode()
    return [public(record) for record in chunk], meta


def _offset(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise ApiError("InvalidQuery", "nextToken: not a token this API returned") from None
    if not isinstance(offset, int) or offset < 0:
        raise ApiError("InvalidQuery", "nextToken: not a token this API returned")
    return offset
