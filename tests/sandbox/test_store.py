"""Both stores keep records per kind, in insertion order; SQLite keeps them across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.sandbox.assembly import SandboxOptions, start_sandbox
from integration.sandbox.store import MemoryStore, Record, SqliteStore, Store


async def _exercise(store: Store) -> None:
    await store.put("user", "a", {"id": "a", "n": 1})
    await store.put("user", "b", {"id": "b", "n": 2})
    await store.put("user", "a", {"id": "a", "n": 3})  # replaced in place
    await store.put("message", "a", {"id": "a", "n": 9})
    assert [r["n"] for r in await store.all("user")] == [3, 2]
    assert await store.get("message", "a") == {"id": "a", "n": 9}
    assert await store.delete("user", "b") is True
    assert await store.delete("user", "b") is False
    assert await store.get("user", "b") is None


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_store_semantics(kind: str, tmp_path: Path) -> None:
    store: Store = MemoryStore() if kind == "memory" else await SqliteStore.open(tmp_path / "s.sqlite3")
    try:
        await _exercise(store)
    finally:
        await store.close()


async def test_memory_store_hands_out_copies() -> None:
    store = MemoryStore()
    record: Record = {"id": "a", "tags": {}}
    await store.put("user", "a", record)
    record["tags"]["x"] = "1"
    fetched = await store.get("user", "a")
    assert fetched == {"id": "a", "tags": {}}


async def test_a_persisted_sandbox_keeps_its_identity_and_objects(tmp_path: Path) -> None:
    options = SandboxOptions(
        integration_url="http://127.0.0.1:9/",
        public_url="http://127.0.0.1:9",
        persist_path=tmp_path / "sandbox.sqlite3",
    )
    first = await start_sandbox(options)
    user = await first.botpress.create_user({"id": "Z-1"}, "Ann")
    await first.close()
    second = await start_sandbox(options)
    try:
        assert second.botpress.identity == first.botpress.identity
        assert await second.botpress.users.get(user["id"]) == user
        assert await second.botpress.users.find(second.botpress.identity.bot_user_id) is not None
    finally:
        await second.close()
