"""Conversations: get-or-create, get, update and list."""

from __future__ import annotations

import json

from integration.botpress import BotpressClient
from tests.contracts.botpress import BotpressMockRouter, bp_conversation, bp_error, bp_json, bp_page

CONV_ID = "conv_01JTESTCONV00000000000000000"


async def test_get_or_create_conversation(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/conversations/get-or-create").mock(
        return_value=bp_json({"conversation": bp_conversation(CONV_ID, tags={"id": "ticket-9"})})
    )

    conversation = await bp_client.get_or_create_conversation(
        channel="hitl", tags={"id": "ticket-9"}, discriminate_by_tags=["id"]
    )

    assert (conversation.id, conversation.channel, conversation.tags) == (CONV_ID, "hitl", {"id": "ticket-9"})
    assert json.loads(route.calls.last.request.content) == {
        "channel": "hitl",
        "tags": {"id": "ticket-9"},
        "discriminateByTags": ["id"],
    }


async def test_get_conversation(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(f"/v1/chat/conversations/{CONV_ID}").mock(
        return_value=bp_json({"conversation": bp_conversation(CONV_ID, integration="acme/hitl")})
    )

    conversation = await bp_client.get_conversation(CONV_ID)

    assert conversation is not None
    assert conversation.integration == "acme/hitl"


async def test_get_conversation_returns_none_when_missing(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    bp_api.get(f"/v1/chat/conversations/{CONV_ID}").mock(return_value=bp_error("ResourceNotFound"))

    assert await bp_client.get_conversation(CONV_ID) is None


async def test_update_conversation_sends_tags(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/conversations/{CONV_ID}").mock(
        return_value=bp_json({"conversation": bp_conversation(CONV_ID, tags={"closed": "true"})})
    )

    conversation = await bp_client.update_conversation(CONV_ID, tags={"closed": "true"})

    assert conversation.tags == {"closed": "true"}
    assert json.loads(route.calls.last.request.content) == {"tags": {"closed": "true"}}


async def test_list_conversations_encodes_channel_tags_and_integration(
    bp_api: BotpressMockRouter, bp_client: BotpressClient
) -> None:
    route = bp_api.get("/v1/chat/conversations").mock(
        side_effect=[
            bp_page("conversations", [bp_conversation()], next_token="t2"),
            bp_page("conversations", [bp_conversation()]),
        ]
    )

    conversations = await bp_client.list_conversations(
        channel="hitl", tags={"id": "123", "kind": "a&b=c"}, integration_name="hitl-bridge"
    )

    assert len(conversations) == 2
    first = route.calls[0].request.url
    assert first.params.multi_items() == [
        ("channel", "hitl"),
        ("tags.id", "123"),
        ("tags.kind", "a&b=c"),
        ("integrationName", "hitl-bridge"),
    ]
    assert b"tags.kind=a%26b%3Dc" in first.query
    assert route.calls[1].request.url.params["nextToken"] == "t2"


async def test_list_conversations_drops_unset_filters(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get("/v1/chat/conversations").mock(return_value=bp_page("conversations", []))

    await bp_client.list_conversations(channel="hitl")

    assert route.calls.last.request.url.params.multi_items() == [("channel", "hitl")]
