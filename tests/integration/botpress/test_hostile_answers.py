"""Answers of the Runtime API with lone surrogates are read with U+FFFD, so they can be sent on."""

from __future__ import annotations

import json

import httpx

from integration.botpress import BotpressClient
from tests.contracts.botpress import BotpressMockRouter, bp_user

USER_ID = "user_01JTESTUSER00000000000000000"


async def test_a_lone_surrogate_in_an_answer_becomes_a_replacement_character(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    body = {"user": bp_user(USER_ID, tags={"email": "j\udc00@x.test"}, name="J\ud800ne")}
    answer = httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    bp_api.get(f"/v1/chat/users/{USER_ID}").mock(return_value=answer)

    user = await bp_client.get_user(USER_ID)

    assert user is not None and user.name == "J\ufffdne" and user.tags["email"] == "j\ufffd@x.test"
    (user.name + user.tags["email"]).encode("utf-8")  # and it can be sent on
