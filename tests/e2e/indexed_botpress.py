"""The fake Botpress of the HTTP fakes, with its tag lookups answered from indexes instead of scans.

:class:`~tests.fake_botpress.FakeBotpress` finds users, conversations and messages by tag by scanning all of them,
which is fine for a unit test and most of the fake's CPU in the speed benchmark (thousands of conversations and
messages, a tag lookup on most calls). :class:`IndexedBotpress` answers the same requests with the same records
in the same order (tests/e2e/test_fakes.py compares both): each collection is an :class:`IndexedRecords`, which
indexes a record's tags (and its channel or conversation) whenever it is stored or its tags change; a lookup takes
the smallest candidate set of the wanted tags and checks each candidate as the scan does, so an entry left by a
changed tag only costs a check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from tests.contracts.botpress import bp_conversation, bp_json, bp_page, bp_user
from tests.fake_botpress import FakeBotpress, Record, _matches, _tag_filter

_FIELDS = ("channel", "conversationId")
"""Fields filtered on besides the tags, indexed like a tag (under a key no tag can have)."""


class IndexedRecords(dict[str, Record]):
    """Records by id, in insertion order, with an index of ``(tag, value)`` -> ids; ``reindex`` after a tag change."""

    def __init__(self) -> None:
        super().__init__()
        self._order: dict[str, int] = {}
        self._index: dict[tuple[str, str], dict[str, None]] = {}

    def __setitem__(self, record_id: str, record: Record) -> None:
        self._order.setdefault(record_id, len(self._order))
        super().__setitem__(record_id, record)
        self.reindex(record)

    def reindex(self, record: Record) -> None:
        """Index the record's current tags and fields (older entries stay, and fail the lookup's check)."""
        keys = [(f"tags.{k}", v) for k, v in record["tags"].items()]
        keys += [(name, record[name]) for name in _FIELDS if isinstance(record.get(name), str)]
        for key in keys:
            self._index.setdefault(key, {})[record["id"]] = None

    def find(self, tags: dict[str, str], **fields: str | None) -> list[Record]:
        """The records a scan would find, in the same order: all ``tags`` match, and each field given."""
        wanted = {name: value for name, value in fields.items() if value is not None}
        keys = [(f"tags.{k}", v) for k, v in tags.items()] + list(wanted.items())
        if not keys:
            return list(self.values())
        candidates = min((self._index.get(key, {}) for key in keys), key=len)
        found = [self[i] for i in candidates if i in self and _matches(self[i], tags)]
        found = [r for r in found if all(r.get(name) == value for name, value in wanted.items())]
        return sorted(found, key=lambda record: self._order[record["id"]])


@dataclass
class IndexedBotpress(FakeBotpress):
    """:class:`FakeBotpress` whose tag-filtered lists and get-or-creates use :class:`IndexedRecords`."""

    def __post_init__(self) -> None:
        self.users, self.conversations, self.messages = IndexedRecords(), IndexedRecords(), IndexedRecords()

    def _records(self, name: str) -> IndexedRecords:
        records = getattr(self, name)
        assert isinstance(records, IndexedRecords)
        return records

    def _get_or_create_user(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys if k in body["tags"]}
        found = self._records("users").find(wanted) if wanted else []
        if found:
            return bp_json({"user": found[0]})
        user = bp_user(tags=body["tags"], name=body.get("name"), picture_url=body.get("pictureUrl"))
        self.users[user["id"]] = user
        return bp_json({"user": user})

    def _update_user(self, request: httpx.Request, id: str) -> httpx.Response:
        answer = super()._update_user(request, id)
        if id in self.users:
            self._records("users").reindex(self.users[id])
        return answer

    def _list_users(self, request: httpx.Request) -> httpx.Response:
        return bp_page("users", self._records("users").find(_tag_filter(request)))

    def _get_or_create_conversation(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys}
        found = self._records("conversations").find(wanted, channel=body["channel"])
        if found:
            return bp_json({"conversation": found[0]})
        conversation = bp_conversation(channel=body["channel"], tags=body["tags"])
        self.conversations[conversation["id"]] = conversation
        return bp_json({"conversation": conversation})

    def _list_conversations(self, request: httpx.Request) -> httpx.Response:
        channel = request.url.params.get("channel")
        return bp_page("conversations", self._records("conversations").find(_tag_filter(request), channel=channel))

    def _get_or_create_message(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        keys = body.get("discriminateByTags") or list(body["tags"])
        wanted = {k: body["tags"][k] for k in keys}
        found = self._records("messages").find(wanted, conversationId=body["conversationId"]) if wanted else []
        if found:
            return bp_json({"message": found[0]})
        return bp_json({"message": self._new_message(body)})

    def _list_messages(self, request: httpx.Request) -> httpx.Response:
        conversation_id = request.url.params.get("conversationId")
        found = self._records("messages").find(_tag_filter(request), conversationId=conversation_id)
        return bp_page("messages", found)

    def _update_message(self, request: httpx.Request, id: str) -> httpx.Response:
        answer = super()._update_message(request, id)
        if id in self.messages:
            self._records("messages").reindex(self.messages[id])
        return answer

    def messages_in(self, bp_conversation_id: str) -> list[Record]:
        """Messages of one conversation, oldest first."""
        return self._records("messages").find({}, conversationId=bp_conversation_id)
