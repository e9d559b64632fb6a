"""Per-session adapter data (``AdapterContext.sessions``) on both coordination backends: read, atomic change, drop."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import JsonValue

from external_adapters import Installation
from external_adapters.session_data import CoordinatorSessionData

from .conftest import Coordinators

HERE = Installation("bot_1", "user_bot", "intver_1", "hitl", "wh_1")
ELSEWHERE = Installation("bot_1", "user_bot", "intver_2", "hitl", "wh_2")
SESSION = "C0123ABC:1733100000.000100"


def _count(data: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
    count = (data or {}).get("count", 0)
    assert isinstance(count, int)
    return {**(data or {}), "count": count + 1}


async def test_get_update_and_a_change_returning_none_drops_the_record(coordinators: Coordinators) -> None:
    sessions = CoordinatorSessionData(await coordinators.open(), HERE)
    assert await sessions.get(SESSION) is None
    assert await sessions.update(SESSION, lambda data: {"claimed_by": None, "closed": False}) == {
        "claimed_by": None,
        "closed": False,
    }
    claimed = await sessions.update(SESSION, lambda data: {**(data or {}), "claimed_by": "U1"})
    assert claimed == {"claimed_by": "U1", "closed": False} == await sessions.get(SESSION)
    seen: list[dict[str, JsonValue] | None] = []

    def drop(data: dict[str, JsonValue] | None) -> None:
        seen.append(data)

    def again(data: dict[str, JsonValue] | None) -> dict[str, JsonValue]:
        seen.append(data)
        return {"again": True}

    assert await sessions.update(SESSION, drop) is None
    assert seen == [claimed] and await sessions.get(SESSION) is None
    assert await sessions.update(SESSION, again) == {"again": True}
    assert seen[-1] is None  # after a drop, a change starts from nothing


async def test_records_are_per_installation_and_per_session(coordinators: Coordinators) -> None:
    coordinator = await coordinators.open()
    here, elsewhere = CoordinatorSessionData(coordinator, HERE), CoordinatorSessionData(coordinator, ELSEWHERE)
    await here.update(SESSION, lambda data: {"who": "here"})
    assert await elsewhere.get(SESSION) is None and await here.get(SESSION + "0") is None
    await elsewhere.update(SESSION, lambda data: {"who": "elsewhere"})
    assert await here.get(SESSION) == {"who": "here"}


async def test_a_change_that_fails_leaves_the_record_and_frees_it(coordinators: Coordinators) -> None:
    sessions = CoordinatorSessionData(await coordinators.open(), HERE)
    await sessions.update(SESSION, _count)

    def failing(data: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
        raise ValueError("not this time")

    with pytest.raises(ValueError, match="not this time"):
        await sessions.update(SESSION, failing)
    assert await sessions.update(SESSION, _count) == {"count": 2}


async def test_concurrent_changes_from_two_workers_lose_none(coordinators: Coordinators) -> None:
    # Two workers of one installation on PostgreSQL (two pools, as two processes); the embedded backend serves one
    # process, so there the two share its coordinator: N concurrent increments give N either way.
    first = await coordinators.open()
    second = await coordinators.open() if coordinators.multi_process else first
    workers = [CoordinatorSessionData(first, HERE), CoordinatorSessionData(second, HERE)]
    await asyncio.gather(*(workers[n % 2].update(SESSION, _count) for n in range(24)))
    assert await workers[0].get(SESSION) == {"count": 24} == await workers[1].get(SESSION)


async def test_a_record_outlives_its_coordinator(coordinators: Coordinators) -> None:
    first = await coordinators.open()
    await CoordinatorSessionData(first, HERE).update(SESSION, lambda data: {"parent_ts": "1733100000.000100"})
    await coordinators.close(first)  # a restart: what the next process opens is the same store
    reopened = await coordinators.open()
    assert await CoordinatorSessionData(reopened, HERE).get(SESSION) == {"parent_ts": "1733100000.000100"}
