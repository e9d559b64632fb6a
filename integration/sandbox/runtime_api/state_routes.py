"""Handlers of ``/v1/chat/states/{type}/{id}/{name}`` (get, set, get-or-set, patch)."""

from __future__ import annotations

from aiohttp import web

from ..store import Record
from .bodies import GetOrSetState, PatchState, SetState, parse_body
from .errors import ApiError, read_json_object
from .keys import BOTPRESS
from .records import public
from .states import STATE_TYPES

_PATH = "/v1/chat/states/{type}/{id}/{name}"


def state_routes() -> list[web.RouteDef]:
    """The state endpoints."""
    return [
        web.get(_PATH, get_state),
        web.post(_PATH, set_state),
        web.patch(_PATH, patch_state),
        web.post(_PATH + "/get-or-set", get_or_set_state),
    ]


def _address(request: web.Request) -> tuple[str, str, str]:
    type_ = request.match_info["type"]
    if type_ not in STATE_TYPES:
        raise ApiError("InvalidPayload", f"type: must be one of {list(STATE_TYPES)}, got {type_!r}")
    return type_, request.match_info["id"], request.match_info["name"]


def _answer(state: Record, *, with_meta: bool) -> web.Response:
    body: dict[str, object] = {"state": public(state)}
    if with_meta:
        body["meta"] = {"cached": False}
    return web.json_response(body)


async def get_state(request: web.Request) -> web.Response:
    state = await request.app[BOTPRESS].value.states.get(*_address(request))
    return _answer(state, with_meta=True)


async def set_state(request: web.Request) -> web.Response:
    address = _address(request)
    body = parse_body(SetState, await read_json_object(request))
    state = await request.app[BOTPRESS].value.states.set(*address, body.payload, body.expiry)
    return _answer(state, with_meta=False)


async def get_or_set_state(request: web.Request) -> web.Response:
    address = _address(request)
    body = parse_body(GetOrSetState, await read_json_object(request))
    state = await request.app[BOTPRESS].value.states.get_or_set(*address, body.payload, body.expiry)
    return _answer(state, with_meta=True)


async def patch_state(request: web.Request) -> web.Response:
    address = _address(request)
    body = parse_body(PatchState, await read_json_object(request))
    state = await request.app[BOTPRESS].value.states.patch(*address, body.payload)
    return _answer(state, with_meta=False)
