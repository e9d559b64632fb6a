"""Fixtures of the sandbox tests: the emulated Runtime API served over real HTTP, every exchange contract-checked."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

from integration.sandbox.runtime_api import Botpress, Identity, IntegrationDefinition, create_runtime_api
from integration.sandbox.store import MemoryStore
from tests.contracts.botpress import OPENAPI_PATH, validate_botpress_error_body, validate_botpress_request

API_PREFIX = "/sandbox/api"
IDENTITY = Identity(
    bot_id="0b0b0b0b-1111-4222-8333-444455556666",
    bot_user_id="user_01JSANDBOXBOTUSER0000000000",
    integration_id="intver_01JSANDBOXINTEGRATION00000",
    integration_alias="hitl-bridge",
    webhook_id="5ebb0000-aaaa-4bbb-8ccc-ddddeeeeffff",
)
INTEGRATION_HEADERS = {
    "authorization": "Bearer sandbox",
    "x-bot-id": IDENTITY.bot_id,
    "x-integration-id": IDENTITY.integration_id,
    "x-integration-alias": IDENTITY.integration_alias,
}


@functools.cache
def strict_openapi() -> OpenAPI:
    """The Runtime OpenAPI 1.70.2 as it is: the emulator must answer exactly its shapes (no extra fields)."""
    return OpenAPI.from_dict(json.loads(OPENAPI_PATH.read_text()))


def validate_emulator_response(request: httpx.Request, response: httpx.Response, base_url: str) -> None:
    """2xx bodies strictly against the spec (status code included); errors as catalogue error bodies."""
    if not response.is_success:
        validate_botpress_error_body(response.json(), status=response.status_code)
        return
    path = request.url.path.removeprefix(httpx.URL(base_url).path.rstrip("/"))
    query = {k: v for k, v in request.url.params.multi_items() if not k.startswith("tags.")}
    mock_request = MockRequest(
        "https://api.botpress.cloud", request.method.lower(), path, args=query, headers=dict(request.headers)
    )
    mock_response = MockResponse(response.content, status_code=response.status_code, content_type="application/json")
    try:
        strict_openapi().validate_response(mock_request, mock_response)
    except OpenAPIError as exc:
        cause = getattr(exc.__cause__, "schema_errors", None) or []
        details = "; ".join(error.message for error in cause)
        raise AssertionError(f"{request.method} {path} -> {response.status_code}: {exc} {details}") from None


class Exchanges(list[tuple[httpx.Request, httpx.Response]]):
    """Every exchange an API client made, for assertions on traffic."""


def contract_client(base_url: str, *, check_requests: bool = True, **headers: str) -> httpx.AsyncClient:
    """An httpx client on the emulator whose every request and response is validated against the contract."""

    async def on_request(request: httpx.Request) -> None:
        if check_requests:
            validate_botpress_request(request, base_url=base_url, require_integration_headers=False)

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        validate_emulator_response(response.request, response, base_url)

    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers or INTEGRATION_HEADERS,
        event_hooks={"request": [on_request], "response": [on_response]},
        trust_env=False,
    )


@pytest.fixture
def botpress() -> Botpress:
    """An emulated Botpress in memory, with the sandbox's bot user."""
    return Botpress(MemoryStore(), IDENTITY, IntegrationDefinition())


@pytest.fixture
async def api_base_url(botpress: Botpress) -> AsyncIterator[str]:
    """The emulated Runtime API on a real socket; its base URL (as the integration would be configured)."""
    app = web.Application()
    app.add_subapp(API_PREFIX, create_runtime_api(botpress))
    await botpress.create_user({}, "Sandbox bot", ident=IDENTITY.bot_user_id)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url(API_PREFIX))
    finally:
        await server.close()


@pytest.fixture
async def api(api_base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A contract-checked client calling as the integration."""
    async with contract_client(api_base_url) as client:
        yield client


@pytest.fixture
async def raw_api(api_base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that may send bad requests on purpose; answers are still checked (errors as error bodies)."""
    async with contract_client(api_base_url, check_requests=False) as client:
        yield client


def created(response: httpx.Response, key: str) -> dict[str, Any]:
    """The object of a 201 answer."""
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()[key]
    return body


def ok(response: httpx.Response, key: str) -> Any:
    """The object of a 200 answer."""
    assert response.status_code == 200, response.text
    return response.json()[key]


def error(response: httpx.Response, status: int, type: str) -> str:
    """The message of an error answer of that status and type."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == type, body
    assert body["id"].startswith("err_")
    message: str = body["message"]
    return message
