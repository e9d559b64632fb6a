"""The server leaves its startup heap out of later garbage collections (gc.freeze once the app has started)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from integration import serving


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process keeps collecting as before


async def test_startup_freezes_what_it_built(unfrozen: None) -> None:
    built = [object() for _ in range(10)]  # alive across the freeze, as the app's clients and schemas are
    assert gc.get_freeze_count() == 0
    await serving._freeze_startup_heap(object())
    assert gc.get_freeze_count() >= len(built)
