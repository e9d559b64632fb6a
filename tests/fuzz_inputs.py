"""Hostile inputs for the fuzz test, and the upstream services it runs against.

Values mix what real traffic carries (the ids of a user and a session that exist) with what breaks naive
code: lone surrogates, digits int() refuses ("²"), numbers too big for any id, non-numeric ids, nesting too
deep for json.loads, invalid UTF-8.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import respx
from hypothesis import strategies as st

from tests.contracts.botpress import bp_error, validate_botpress_request
from tests.contracts.zendesk import validate_zendesk_request
from tests.external_adapters.zendesk.fake_zendesk import FakeZendesk
from tests.fake_botpress import FakeBotpress

DEEP = "[" * 50_000 + "]" * 50_000
NASTY_TEXT = [
    "",
    "²",
    "٣",
    "1e999",
    "-1",
    "0",
    "9" * 30,
    "9" * 5000,
    "abc",
    "\ud800",
    "x\udfffy",
    "\ud83d\ude00",
    "\x00",
    "NaN",
    "null",
    " ",
    "../../etc/passwd",
    "%00",
    "a" * 600,
    "<img src=x onerror=alert(1)>",
]
HOSTILE_TEXT = st.sampled_from(NASTY_TEXT) | st.text(max_size=12)
HOSTILE_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([10**400, 1e308, -0.0])
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT
)
HOSTILE_VALUE = st.recursive(
    HOSTILE_SCALAR,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(HOSTILE_TEXT, children, max_size=3),
    max_leaves=6,
)
RAW_BODIES = st.sampled_from(
    [DEEP, '{"a":' * 30_000 + "1" + "}" * 30_000, "", "{", "NaN", "\udcff\udcfe", "[]", "null"]
)


class Body(str):
    """A request body whose repr stays short, so a failing example is reported readably (and cheaply)."""

    def __repr__(self) -> str:
        text = str.__repr__(self)
        return text if len(text) <= 200 else f"{text[:120]}... ({len(self)} characters)"


def shaped(template: Any) -> st.SearchStrategy[Any]:
    """Values shaped like ``template``: each key kept or dropped, each leaf kept or made hostile."""
    if isinstance(template, dict):
        return st.fixed_dictionaries({}, optional={key: shaped(value) for key, value in template.items()})
    if isinstance(template, list):
        return st.lists(shaped(template[0]), max_size=3) if template else st.just([])
    return st.just(template) | HOSTILE_VALUE


def body_of(template: Any) -> st.SearchStrategy[str]:
    """A JSON body shaped like ``template`` (lone surrogates travel as ``\\ud800`` escapes), or a raw hostile one."""
    return ((shaped(template) | HOSTILE_VALUE).map(json.dumps) | RAW_BODIES).map(Body)


def url_part(text: str) -> str:
    """``text`` percent-encoded byte for byte, lone surrogates included (as a hostile client would send them)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


class Upstream:
    """Botpress and Zendesk as the real services answer: a request breaking their contract gets a 4xx.

    The stateful fakes answer through their respx routers, used as plain dispatchers (nothing is patched).
    """

    def __init__(self) -> None:
        self.botpress = FakeBotpress()
        self.zendesk = FakeZendesk()
        self._bp_router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
        self._zd_router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
        self.botpress.install(self._bp_router)
        self.zendesk.install(self._zd_router)

    def botpress_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._botpress)

    def vendor_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._vendor)

    def _botpress(self, request: httpx.Request) -> httpx.Response:
        try:
            validate_botpress_request(request)
        except AssertionError as exc:
            return bp_error("InvalidPayload", str(exc)[:200])
        return _dispatch(self._bp_router, request, bp_error("ResourceNotFound", "no such resource"))

    def _vendor(self, request: httpx.Request) -> httpx.Response:
        missing = httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
        if not request.url.host.endswith(".zendesk.com"):
            return missing  # media hosts
        try:
            validate_zendesk_request(request)
        except AssertionError:
            return httpx.Response(400, json={"error": "InvalidRequest", "description": "breaks the contract"})
        return _dispatch(self._zd_router, request, missing)


def _dispatch(router: respx.MockRouter, request: httpx.Request, missing: httpx.Response) -> httpx.Response:
    try:
        response: httpx.Response = router.handler(request)
    except (KeyError, ValueError, TypeError, AssertionError):
        # The fakes look ids up without checking (a KeyError is their 404), and no route is a 404 too.
        return missing
    return response
