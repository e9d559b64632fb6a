"""Messages and events: create, get-or-create, get, update, list; event creation."""

from __future__ import annotations

import json

from integration.botpress import BotpressClient
from tests.contracts.botpress import BotpressMockRouter, bp_error, bp_event, bp_json, bp_message, bp_page

CONV_ID = "conv_01JTESTCONV00000000000000000"
USER_ID = "user_01JTESTUSER00000000000000000"
MSG_ID = "msg_01JTESTMSG0000000000000000000"


async def test_create_message_always_sends_tags(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/messages").mock(
        return_value=bp_json({"message": bp_message(MSG_ID, conversation_id=CONV_ID, user_id=USER_ID)}, 201)
    )

    message = await bp_client.create_message(
        conversation_id=CONV_ID, user_id=USER_ID, type="text", payload={"text": "hi"}, tags={}
    )

    assert (message.id, message.conversation_id, message.user_id) == (MSG_ID, CONV_ID, USER_ID)
    assert message.direction == "incoming"
    assert json.loads(route.calls.last.request.content) == {
        "conversationId": CONV_ID,
        "userId": USER_ID,
        "type": "text",
        "payload": {"text": "hi"},
        "tags": {},
    }


async def test_get_or_create_message_sends_discriminator(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/messages/get-or-create").mock(
        return_value=bp_json({"message": bp_message(tags={"id": "ext-1"})})
    )

    message = await bp_client.get_or_create_message(
        conversation_id=CONV_ID,
        user_id=USER_ID,
        type="image",
        payload={"imageUrl": "https://x/i.png"},
        tags={"id": "ext-1"},
        discriminate_by_tags=["id"],
    )

    assert message.tags == {"id": "ext-1"}
    body = json.loads(route.calls.last.request.content)
    assert body["discriminateByTags"] == ["id"]
    assert body["tags"] == {"id": "ext-1"}
    assert body["type"] == "image"


async def test_get_message_and_missing_message(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    bp_api.get(f"/v1/chat/messages/{MSG_ID}").mock(
        side_effect=[bp_json({"message": bp_message(MSG_ID, payload={"text": "x"})}), bp_error("ResourceNotFound")]
    )

    found = await bp_client.get_message(MSG_ID)
    missing = await bp_client.get_message(MSG_ID)

    assert found is not None
    assert found.payload == {"text": "x"}
    assert missing is None


async def test_update_message_tags_only(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/messages/{MSG_ID}").mock(
        return_value=bp_json({"message": bp_message(MSG_ID, tags={"id": "zd-5"})})
    )

    message = await bp_client.update_message(MSG_ID, tags={"id": "zd-5"})

    assert message.tags == {"id": "zd-5"}
    assert json.loads(route.calls.last.request.content) == {"tags": {"id": "zd-5"}}


async def test_update_message_with_payload(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.put(f"/v1/chat/messages/{MSG_ID}").mock(return_value=bp_json({"message": bp_message(MSG_ID)}))

    await bp_client.update_message(MSG_ID, tags={}, payload={"text": "edited"})

    assert json.loads(route.calls.last.request.content) == {"tags": {}, "payload": {"text": "edited"}}


async def test_list_messages_paginates(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.get("/v1/chat/messages").mock(
        side_effect=[bp_page("messages", [bp_message()], next_token="n"), bp_page("messages", [bp_message()])]
    )

    messages = await bp_client.list_messages(conversation_id=CONV_ID, tags={"id": "e"})

    assert len(messages) == 2
    assert route.calls[0].request.url.params.multi_items() == [("conversationId", CONV_ID), ("tags.id", "e")]
    assert route.calls[1].request.url.params["nextToken"] == "n"


async def test_create_event_drops_unset_links(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/events").mock(
        return_value=bp_json({"event": bp_event(type="hitlStopped", payload={"conversationId": CONV_ID})}, 201)
    )

    event = await bp_client.create_event(type="hitlStopped", payload={"conversationId": CONV_ID})

    assert (event.type, event.status, event.failure_reason) == ("hitlStopped", "pending", None)
    assert json.loads(route.calls.last.request.content) == {
        "type": "hitlStopped",
        "payload": {"conversationId": CONV_ID},
    }


async def test_create_event_with_links(bp_api: BotpressMockRouter, bp_client: BotpressClient) -> None:
    route = bp_api.post("/v1/chat/events").mock(
        return_value=bp_json({"event": bp_event(conversation_id=CONV_ID, user_id=USER_ID, message_id=MSG_ID)})
    )

    event = await bp_client.create_event(
        type="hitlAssigned",
        payload={"conversationId": CONV_ID, "userId": USER_ID},
        conversation_id=CONV_ID,
        user_id=USER_ID,
        message_id=MSG_ID,
    )

    assert (event.conversation_id, event.user_id, event.message_id) == (CONV_ID, USER_ID, MSG_ID)
    body = json.loads(route.calls.last.request.content)
    assert (body["conversationId"], body["userId"], body["messageId"]) == (CONV_ID, USER_ID, MSG_ID)
