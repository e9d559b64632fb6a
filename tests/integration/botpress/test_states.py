"""States: get (404 -> None), set (with expiry, or cleared), get-or-set and patch."""

from __future__ import annotations

import json

from integration.botpress import BotpressClient
from tests.contracts.botpress import TEST_INTEGRATION_ID, BotpressMockRouter, bp_error, bp_json, bp_state

STATE_PATH = f"/v1/chat/states/integration/{TEST_INTEGRATION_ID}/zendesk"


async def test_get_state(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(STATE_PATH).mock(
        return_value=bp_json({"state": bp_state(payload={"subdomain": "acme"}), "meta": {"cached": False}})
    )

    state = await bp_client.get_state("integration", TEST_INTEGRATION_ID, "zendesk")

    assert state is not None
    assert (state.type, state.name, state.payload) == ("integration", "state", {"subdomain": "acme"})


async def test_get_state_returns_none_when_never_set(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(STATE_PATH).mock(return_value=bp_error("ResourceNotFound", "state not found"))

    assert await bp_client.get_state("integration", TEST_INTEGRATION_ID, "zendesk") is None


async def test_set_state_with_expiry(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post(STATE_PATH).mock(return_value=bp_json({"state": bp_state(payload={"a": 1})}))

    state = await bp_client.set_state("integration", TEST_INTEGRATION_ID, "zendesk", {"a": 1}, expiry_ms=60_000)

    assert state.payload == {"a": 1}
    assert json.loads(route.calls.last.request.content) == {"payload": {"a": 1}, "expiry": 60_000}


async def test_set_state_to_none_clears_it(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post(STATE_PATH).mock(return_value=bp_json({"state": bp_state()}))

    await bp_client.set_state("integration", TEST_INTEGRATION_ID, "zendesk", None)

    assert json.loads(route.calls.last.request.content) == {"payload": None}


async def test_get_or_set_state(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post(f"{STATE_PATH}/get-or-set").mock(
        return_value=bp_json({"state": bp_state(payload={"n": 0}), "meta": {"cached": True}})
    )

    state = await bp_client.get_or_set_state("integration", TEST_INTEGRATION_ID, "zendesk", {"n": 0})

    assert state.payload == {"n": 0}
    assert json.loads(route.calls.last.request.content) == {"payload": {"n": 0}}


async def test_patch_state_uses_patch(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.patch(STATE_PATH).mock(return_value=bp_json({"state": bp_state(payload={"a": 1, "b": 2})}))

    state = await bp_client.patch_state("integration", TEST_INTEGRATION_ID, "zendesk", {"b": 2})

    assert state.payload == {"a": 1, "b": 2}
    assert route.calls.last.request.method == "PATCH"
    assert json.loads(route.calls.last.request.content) == {"payload": {"b": 2}}


async def test_user_state_path_and_owner(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    user_id = "user_01JTESTUSER00000000000000000"
    bp_api.get(f"/v1/chat/states/user/{user_id}/profile").mock(
        return_value=bp_json({"state": bp_state("user", user_id, "profile"), "meta": {"cached": False}})
    )

    state = await bp_client.get_state("user", user_id, "profile")

    assert state is not None
    assert state.user_id == user_id


async def test_path_segments_are_percent_encoded(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get(url__regex=r"/v1/chat/states/integration/.+").mock(return_value=bp_error("ResourceNotFound"))

    await bp_client.get_state("integration", "a/b c", "zendesk")

    assert route.calls.last.request.url.raw_path == b"/v1/chat/states/integration/a%2Fb%20c/zendesk"
