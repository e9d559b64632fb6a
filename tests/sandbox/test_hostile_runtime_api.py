"""The emulated Runtime API answers a body too deeply nested for json.loads as invalid JSON, not a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import error

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("path", ["/v1/chat/users", "/v1/chat/conversations/get-or-create", "/v1/chat/events"])
async def test_a_deeply_nested_body_is_invalid_payload(raw_api: httpx.AsyncClient, path: str) -> None:
    response = await raw_api.post(path, content=DEEP, headers={"content-type": "application/json"})
    assert "not valid JSON" in error(response, 400, "InvalidPayload")
