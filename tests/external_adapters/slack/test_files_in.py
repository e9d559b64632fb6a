"""The store of agents' files: one signing key shared by every worker, signed expiring URLs, idempotent puts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from coordination import open_backend
from external_adapters.errors import AdapterConfigError
from external_adapters.slack.files_in import FileOptions, FileStore, StoredFile, file_key, open_files

from .inbound_kit import NOW, PUBLIC_URL

PNG = StoredFile(name="cat.png", content_type="image/png", content=b"\x89PNG\x00\xff fake")


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def test_a_file_is_kept_once_and_served_by_every_worker(tmp_path: Path, database_url: SecretStr | None) -> None:
    async with (
        open_backend(tmp_path / "a", database_url) as first,
        open_backend(tmp_path / "b", database_url) as second,
    ):
        shared = tmp_path / "a" if database_url is None else tmp_path / "unused"
        async with aclosing(await FileStore.open(first.database, shared)) as one:
            two = await FileStore.open(second.database, shared) if database_url is not None else one
            async with aclosing(two):
                key = file_key("intver_1", "F0001")
                await one.put(key, PNG, NOW)
                await one.put(key, StoredFile(name="other.png", content_type="image/png", content=b"x"), NOW)  # a rerun
                query = _query(one.signed_url(PUBLIC_URL, key, NOW))
                assert two.check(key, query["expires"], query["sig"], NOW)  # the other worker has the same key
                assert await two.get(key) == PNG


async def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    async with aclosing(await FileStore.open(None, tmp_path)) as store:
        url = store.signed_url(PUBLIC_URL, "k1", NOW)
    async with aclosing(await FileStore.open(None, tmp_path)) as reopened:
        query = _query(url)
        assert reopened.check("k1", query["expires"], query["sig"], NOW + 10)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FileStore]:
    opened = await FileStore.open(None, tmp_path, lifetime=60)
    yield opened
    await opened.aclose()


async def test_a_url_is_refused_when_expired_tampered_or_for_another_file(store: FileStore) -> None:
    url = store.signed_url(PUBLIC_URL, "k1", NOW)
    assert url.startswith(f"{PUBLIC_URL}/slack/files/k1?")
    query = _query(url)
    assert int(query["expires"]) == int(NOW + 60)
    assert store.check("k1", query["expires"], query["sig"], NOW + 59)
    assert not store.check("k1", query["expires"], query["sig"], NOW + 61)
    assert not store.check("k2", query["expires"], query["sig"], NOW)
    assert not store.check("k1", str(int(query["expires"]) + 3600), query["sig"], NOW)
    flipped = query["sig"][:-1] + ("1" if query["sig"].endswith("0") else "0")
    assert not store.check("k1", query["expires"], flipped, NOW)
    assert not store.check("k1", "-1", query["sig"], NOW)


async def test_expired_files_are_dropped_when_the_adapter_starts(tmp_path: Path) -> None:
    async with aclosing(await FileStore.open(None, tmp_path, lifetime=3600)) as store:
        await store.put("old", PNG, 1000.0)
    async with open_files(None, tmp_path, FileOptions(file_lifetime_days=1 / 24)) as files:
        assert await files.get("old") is None


def test_file_keys_differ_by_installation_and_file_and_never_show_them() -> None:
    key = file_key("intver_1", "F0001")
    assert key == file_key("intver_1", "F0001")
    assert key not in (file_key("intver_2", "F0001"), file_key("intver_1", "F0002"))
    assert "F0001" not in key and "intver" not in key


def test_bad_options_name_the_field() -> None:
    with pytest.raises(AdapterConfigError, match="max_file_bytes"):
        FileOptions.parse({"max_file_bytes": 0})
    assert FileOptions.parse({}).file_lifetime_days == 30
