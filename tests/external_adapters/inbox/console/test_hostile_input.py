"""Hostile input to the console and admin APIs: a 400 naming what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from external_adapters.inbox.signing import SIGNATURE_HEADER, check, signed_headers

from .conftest import ADMIN_TOKEN, CLIENT, login

Client = TestClient[Any, Any]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("limit", ["²", "٣", "1" * 5000, "-1", "1e3", "0"])
async def test_admin_limit_that_is_not_a_small_ascii_number_is_a_400(client: Client, limit: str) -> None:
    response = await client.get("/admin/api/sessions", params={"limit": limit}, headers=ADMIN)
    assert response.status == 400
    assert (await response.json())["field"] == "limit"


async def test_deeply_nested_login_body_is_a_400(client: Client) -> None:
    response = await client.post("/console/api/login", data=DEEP, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert await response.json() == {"error": "body: must be JSON", "code": 400, "field": "body"}


async def test_deeply_nested_agent_body_is_a_400(client: Client) -> None:
    await login(client)
    response = await client.post("/console/api/sessions/s_1/messages", data=DEEP, headers=CLIENT)
    assert response.status == 400 and (await response.json())["field"] == "body"


async def test_a_view_with_an_invalid_filter_is_a_400_naming_it(client: Client) -> None:
    await login(client)
    body = {"name": "mine", "filters": {"state": "BOGUS"}}
    response = await client.post("/console/api/views", json=body, headers=CLIENT)
    assert response.status == 400
    assert (await response.json())["field"] == "filters.state"


async def test_lone_surrogates_in_a_body_become_replacement_characters(client: Client) -> None:
    await login(client)
    raw = '{"name": "bad \\ud800 view", "filters": {"search": "x\\udfffy"}}'
    response = await client.post("/console/api/views", data=raw, headers=CLIENT)
    assert response.status == 201, await response.text()
    view = await response.json()
    assert view["name"] == "bad \ufffd view" and view["filters"] == {"search": "x\ufffdy"}


@pytest.mark.parametrize("token", ["tökén", "\udcff-escaped"])
async def test_an_admin_token_with_non_ascii_characters_is_a_401(client: Client, token: str) -> None:
    # hmac.compare_digest refuses str holding non-ASCII characters: compared as str, such a token was a 500.
    raw = f"Bearer {token}".encode(errors="surrogateescape").decode("latin-1")
    response = await client.get("/admin/api/sessions", headers={"Authorization": raw})
    assert response.status == 401


def test_a_signature_with_non_ascii_characters_is_a_mismatch() -> None:
    headers = signed_headers("secret", 1_700_000_000, "{}", "evt_1")
    forged = {**headers, SIGNATURE_HEADER: "é" + headers[SIGNATURE_HEADER][1:]}
    assert check("secret", forged, "{}", 1_700_000_000, 300) == "signature mismatch"
    assert check("secret", {**headers, SIGNATURE_HEADER: "\udcff"}, "{}", 1_700_000_000, 300) == "signature mismatch"
