"""The fake Zendesk of the HTTP fakes, with its ticket lookups by ``external_id`` and by tag answered from indexes.

:class:`~tests.external_adapters.zendesk.fake_zendesk.FakeZendesk` scans every ticket for ``GET /api/v2/tickets
?external_id`` and ``GET /api/v2/search?query=tags:...`` (both on every startHitl), which is most of its CPU once
the speed benchmark has made a thousand tickets. :class:`IndexedZendesk` answers them with the same tickets in the
same order (tests/e2e/test_fakes.py compares both): it indexes a ticket's ``external_id`` and tags after each
create and update (the only requests that set them), and checks each candidate as the scan does, so an entry left
by a changed value only costs a check.
"""

from __future__ import annotations

import re

import httpx

from tests.external_adapters.zendesk.fake_zendesk import FakeTicket, FakeZendesk


class IndexedZendesk(FakeZendesk):
    """:class:`FakeZendesk` whose ticket lookups by external id and by tags use indexes."""

    def __init__(self) -> None:
        super().__init__()
        self._by_external_id: dict[str, dict[int, None]] = {}
        self._by_tag: dict[str, dict[int, None]] = {}

    def _index(self, ticket: FakeTicket | None) -> None:
        if ticket is None:
            return
        if isinstance(external_id := ticket.data.get("external_id"), str):
            self._by_external_id.setdefault(external_id, {})[ticket.id] = None
        for tag in ticket.data.get("tags") or []:
            self._by_tag.setdefault(tag, {})[ticket.id] = None

    def _in_order(self, ids: dict[int, None]) -> list[FakeTicket]:
        """The tickets of ``ids`` in the order the scan meets them (``tickets`` holds them by creation)."""
        found = [self.tickets[i] for i in ids if i in self.tickets]
        return sorted(found, key=lambda ticket: ticket.id)  # ids grow with each ticket created

    def _create_ticket(self, request: httpx.Request) -> httpx.Response:
        answer = super()._create_ticket(request)
        if self.tickets:
            self._index(next(reversed(self.tickets.values())))  # the one just made
        return answer

    def _update_ticket(self, request: httpx.Request, ticket_id: str) -> httpx.Response:
        answer = super()._update_ticket(request, ticket_id)
        self._index(self.tickets.get(int(ticket_id)))
        return answer

    def _list_tickets(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("external_id")
        if wanted is None:
            return super()._list_tickets(request)
        candidates = self._in_order(self._by_external_id.get(wanted, {}))
        found = [t.view() for t in candidates if t.data.get("external_id") == wanted]
        return httpx.Response(200, json={"tickets": found, "count": len(found)})

    def _search(self, request: httpx.Request) -> httpx.Response:
        tags = re.findall(r"tags:(\S+)", request.url.params.get("query", ""))
        candidates = min((self._by_tag.get(tag, {}) for tag in tags), key=len) if tags else {}
        found = [
            {**t.view(), "result_type": "ticket"}
            for t in self._in_order(candidates)
            if all(tag in t.data.get("tags", []) for tag in tags)
        ]
        return httpx.Response(200, json={"results": found, "count": len(found)})
