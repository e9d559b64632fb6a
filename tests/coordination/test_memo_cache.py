"""The embedded coordinator's memo in memory: hits, misses, expiry, purge, and never an answer older than a write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coordination import EmbeddedCoordinator
from coordination._memo_cache import ABSENT, Known, MemoCache

from .conftest import Clock


@pytest.fixture
async def embedded(tmp_path: Path, clock: Clock) -> AsyncIterator[EmbeddedCoordinator]:
    coordinator = await EmbeddedCoordinator.open(tmp_path / "data", clock=clock)
    yield coordinator
    await coordinator.aclose()


async def write_behind_its_back(coordinator: EmbeddedCoordinator, key: str, value: str, expires_at: float) -> None:
    """Change the table without the coordinator's memo_set, to see whether a read went to the table."""
    await coordinator.store.database.execute(
        "INSERT INTO coordination_memo (key, value, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        (key, value, expires_at),
    )


async def test_a_known_entry_is_answered_from_memory(embedded: EmbeddedCoordinator, clock: Clock) -> None:
    await embedded.memo_set("ticket:1", "zendesk-1", 60)
    await write_behind_its_back(embedded, "ticket:1", "changed in the table", clock.now + 60)
    assert await embedded.memo_get("ticket:1") == "zendesk-1"


async def test_an_unknown_entry_is_read_from_the_table_once(embedded: EmbeddedCoordinator, clock: Clock) -> None:
    await write_behind_its_back(embedded, "ticket:2", "zendesk-2", clock.now + 60)
    assert await embedded.memo_get("ticket:2") == "zendesk-2"
    assert embedded.memo_cache.get("ticket:2") == Known("zendesk-2", clock.now + 60)


async def test_a_missing_entry_is_remembered_as_absent_until_set(embedded: EmbeddedCoordinator) -> None:
    assert await embedded.memo_get("ticket:3") is None
    assert embedded.memo_cache.get("ticket:3") is ABSENT
    await embedded.memo_set("ticket:3", "zendesk-3", 60)
    assert await embedded.memo_get("ticket:3") == "zendesk-3"


async def test_a_cached_entry_expires_with_its_ttl(embedded: EmbeddedCoordinator, clock: Clock) -> None:
    await embedded.memo_set("ticket:4", "zendesk-4", 10)
    clock.advance(9)
    assert await embedded.memo_get("ticket:4") == "zendesk-4"
    clock.advance(1)
    assert await embedded.memo_get("ticket:4") is None


async def test_an_expired_row_read_from_the_table_answers_none(embedded: EmbeddedCoordinator, clock: Clock) -> None:
    await write_behind_its_back(embedded, "ticket:5", "old", clock.now - 1)
    assert await embedded.memo_get("ticket:5") is None


async def test_memo_set_replaces_what_was_cached(embedded: EmbeddedCoordinator) -> None:
    await embedded.memo_set("mark:1", "100", 60)
    assert await embedded.memo_get("mark:1") == "100"
    await embedded.memo_set("mark:1", "101", 60)
    assert await embedded.memo_get("mark:1") == "101"


async def test_interleaved_reads_and_writes_end_on_the_last_write(embedded: EmbeddedCoordinator) -> None:
    async def write(n: int) -> None:
        await embedded.memo_set("mark:2", str(n), 60)

    await asyncio.gather(*(step for n in range(50) for step in (embedded.memo_get("mark:2"), write(n))))
    assert await embedded.memo_get("mark:2") == "49"
    assert await embedded.store.memo_get("mark:2") == "49"  # the table says the same


async def test_a_failed_write_leaves_the_key_to_the_table(
    embedded: EmbeddedCoordinator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await embedded.memo_set("mark:3", "1", 60)

    async def written_then_lost(key: str, value: str, ttl_seconds: float) -> float:
        await write_behind_its_back(embedded, key, value, clock.now + ttl_seconds)
        raise ConnectionError("the answer was lost")

    monkeypatch.setattr(embedded.store, "memo_set", written_then_lost)
    with pytest.raises(ConnectionError):
        await embedded.memo_set("mark:3", "2", 60)
    assert await embedded.memo_get("mark:3") == "2"


async def test_purge_drops_expired_entries_from_memory_and_table(embedded: EmbeddedCoordinator, clock: Clock) -> None:
    await embedded.memo_set("ticket:6", "gone", 1)
    await embedded.memo_set("ticket:7", "kept", 3600)
    clock.advance(10)
    assert await embedded.purge(5) == 1
    assert embedded.memo_cache.get("ticket:6") is None
    assert embedded.memo_cache.get("ticket:7") == Known("kept", clock.now - 10 + 3600)
    assert await embedded.store.memo_entry("ticket:6") is ABSENT


def test_the_cache_keeps_the_most_recently_used_keys() -> None:
    cache = MemoCache(size=2)
    cache.put("a", Known("1", 10))
    cache.put("b", Known("2", 10))
    assert cache.get("a") == Known("1", 10)  # "a" is now the most recently used
    cache.put("c", Known("3", 10))
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (Known("1", 10), None, Known("3", 10))
    assert len(cache) == 2
