"""Hand-picked edge cases: each row states the SDK's verdict, and both the reference schema and the model must give it.

The SDK's verdict is the reference schema's with unknown keys dropped, not refused (see
:func:`tests.bp_modules.reference.as_the_sdk_parses`): rows with an unknown key are accepted.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bp_modules import hitl
from tests.bp_modules.reference import HISTORY_ELEMENT, HITL, PAYLOADS, is_valid, load, model_accepts, sdk_accepts

BOT = {"type": "bot"}
USER = {"type": "user", "userId": "user_1"}


def _channel(message_type: str) -> dict[str, Any]:
    channel: dict[str, Any] = load(HITL)["channels"]["hitl"]["messages"][message_type]
    return channel


def _history(message_type: str, payload: Any, source: Any = BOT) -> dict[str, Any]:
    return {"source": source, "type": message_type, "payload": payload}


TEXT = (hitl.HitlText, lambda: _channel("text"))
BLOC = (hitl.HitlBloc, lambda: _channel("bloc"))
IMAGE = (hitl.HitlImage, lambda: _channel("image"))
LOCATION = (hitl.LocationPayload, lambda: load(PAYLOADS)["defaults.location"])
CARD = (hitl.CardPayload, lambda: load(PAYLOADS)["defaults.card"])
CHOICE = (hitl.ChoicePayload, lambda: load(PAYLOADS)["defaults.choice"])
HISTORY = (hitl.HistoryMessage, lambda: load(HISTORY_ELEMENT))
CREATE_USER = (hitl.CreateUserInput, lambda: load(HITL)["actions"]["createUser"]["input"])
ASSIGNED = (hitl.HitlAssigned, lambda: load(HITL)["events"]["hitlAssigned"]["schema"])

ROWS: list[tuple[str, tuple[type[BaseModel], Any], Any, bool]] = [
    ("text: non-empty", TEXT, {"text": "hi"}, True),
    ("text: empty", TEXT, {"text": ""}, False),
    ("text: missing", TEXT, {}, False),
    ("text: not a string", TEXT, {"text": 3}, False),
    ("text: userId and additionalData", TEXT, {"text": "hi", "userId": "u", "additionalData": "{}"}, True),
    ("text: empty userId is allowed", TEXT, {"text": "hi", "userId": ""}, True),
    ("additionalData: 500 chars", TEXT, {"text": "hi", "additionalData": "x" * 500}, True),
    ("additionalData: 501 chars", TEXT, {"text": "hi", "additionalData": "x" * 501}, False),
    ("additionalData: not a string", TEXT, {"text": "hi", "additionalData": {"a": 1}}, False),
    ("text: null userId", TEXT, {"text": "hi", "userId": None}, False),
    ("text: extra key is dropped", TEXT, {"text": "hi", "extra": 1}, True),
    ("text: extra null key is dropped", TEXT, {"text": "hi", "extra": None}, True),
    ("text: snake_case user_id is an unknown key", TEXT, {"text": "hi", "user_id": "u"}, True),
    ("text: extra key, text missing", TEXT, {"extra": "hi"}, False),
    ("image: empty title", IMAGE, {"imageUrl": "u", "title": ""}, False),
    ("image: empty url", IMAGE, {"imageUrl": ""}, False),
    ("image: null title", IMAGE, {"imageUrl": "u", "title": None}, False),
    ("bloc: markdown item", BLOC, {"items": [{"type": "markdown", "payload": {"markdown": "**x**"}}]}, True),
    ("bloc: empty markdown", BLOC, {"items": [{"type": "markdown", "payload": {"markdown": ""}}]}, False),
    ("bloc: no items", BLOC, {"items": []}, True),
    ("bloc: card item", BLOC, {"items": [{"type": "card", "payload": {"title": "t", "actions": []}}]}, False),
    ("bloc: item without payload", BLOC, {"items": [{"type": "text"}]}, False),
    (
        "bloc: location item",
        BLOC,
        {"items": [{"type": "location", "payload": {"latitude": 1, "longitude": 2.5}}]},
        True,
    ),
    ("location: integers", LOCATION, {"latitude": 45, "longitude": -73}, True),
    ("location: floats", LOCATION, {"latitude": 45.5, "longitude": -73.25}, True),
    ("location: numeric string", LOCATION, {"latitude": "45.5", "longitude": 1}, False),
    ("location: boolean", LOCATION, {"latitude": True, "longitude": 1}, False),
    ("location: empty address", LOCATION, {"latitude": 1, "longitude": 1, "address": ""}, True),
    ("location: missing longitude", LOCATION, {"latitude": 1}, False),
    (
        "card: action postback",
        CARD,
        {"title": "t", "actions": [{"action": "postback", "label": "l", "value": "v"}]},
        True,
    ),
    ("card: action url", CARD, {"title": "t", "actions": [{"action": "url", "label": "l", "value": "v"}]}, True),
    ("card: action say", CARD, {"title": "t", "actions": [{"action": "say", "label": "l", "value": "v"}]}, True),
    ("card: unknown action", CARD, {"title": "t", "actions": [{"action": "open", "label": "l", "value": "v"}]}, False),
    ("card: empty label", CARD, {"title": "t", "actions": [{"action": "say", "label": "", "value": "v"}]}, False),
    ("card: no actions key", CARD, {"title": "t"}, False),
    ("choice: empty option value", CHOICE, {"text": "t", "options": [{"label": "l", "value": ""}]}, False),
    ("history: bot text", HISTORY, _history("text", {"text": "hi"}), True),
    ("history: user text", HISTORY, _history("text", {"text": "hi"}, USER), True),
    ("history: user without userId", HISTORY, _history("text", {"text": "hi"}, {"type": "user"}), False),
    ("history: bot with userId", HISTORY, _history("text", {"text": "hi"}, {"type": "bot", "userId": "u"}), True),
    ("history: unknown source", HISTORY, _history("text", {"text": "hi"}, {"type": "agent"}), False),
    ("history: unknown message type", HISTORY, _history("sticker", {"text": "hi"}), False),
    ("history: type and payload disagree", HISTORY, _history("image", {"text": "hi"}), False),
    ("history: markdown", HISTORY, _history("markdown", {"markdown": "*x*"}), True),
    ("history: dropdown", HISTORY, _history("dropdown", {"text": "t", "options": []}), True),
    (
        "history: bloc with markdown",
        HISTORY,
        _history("bloc", {"items": [{"type": "markdown", "payload": {"markdown": "x"}}]}),
        True,
    ),
    ("history: extra key", HISTORY, {**_history("text", {"text": "hi"}), "id": "m1"}, True),
    ("history: extra payload key", HISTORY, _history("text", {"text": "hi", "userId": "u"}), True),
    ("history: relayed by the plugin", HISTORY, _history("text", {"type": "text", "text": "hi", "userId": "u"}), True),
    (
        "history: relayed image with channel metadata",
        HISTORY,
        _history("image", {"type": "image", "imageUrl": "u", "metadata": {"webchat": 1}}, USER),
        True,
    ),
    (
        "history: bloc item with an unknown key",
        HISTORY,
        _history("bloc", {"type": "bloc", "items": [{"type": "text", "payload": {"text": "x"}, "id": 1}]}),
        True,
    ),
    ("history: relayed, empty text", HISTORY, _history("text", {"type": "text", "text": "", "userId": "u"}), False),
    ("history: relayed, text missing", HISTORY, _history("image", {"type": "text", "text": "hi"}), False),
    ("history: relayed, null title", HISTORY, _history("image", {"imageUrl": "u", "title": None, "x": 1}), False),
    ("createUser: name only", CREATE_USER, {"name": "Ada"}, True),
    ("createUser: empty name is allowed", CREATE_USER, {"name": ""}, True),
    ("createUser: null email", CREATE_USER, {"name": "Ada", "email": None}, False),
    ("createUser: snake picture_url is an unknown key", CREATE_USER, {"name": "Ada", "picture_url": "u"}, True),
    ("createUser: unknown key, name missing", CREATE_USER, {"fullName": "Ada"}, False),
    ("hitlAssigned: both ids", ASSIGNED, {"conversationId": "c", "userId": "u"}, True),
    ("hitlAssigned: no userId", ASSIGNED, {"conversationId": "c"}, False),
]


@pytest.mark.parametrize(("target", "instance", "accepted"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_schema_and_model_give_the_stated_verdict(
    target: tuple[type[BaseModel], Any], instance: Any, accepted: bool
) -> None:
    model, schema = target
    assert sdk_accepts(schema(), instance) is accepted, "the reference schema disagrees with the table"
    assert model_accepts(model, instance) is accepted


@pytest.mark.parametrize("message_type", hitl.HITL_MESSAGE_TYPES)
def test_channel_payload_tolerates_the_echoed_type_and_user_id_from_the_hitl_plugin(message_type: str) -> None:
    # plugins/hitl sends payload = {type, ...payload, userId}; the generated schema would refuse `type`.
    samples: dict[str, dict[str, Any]] = {
        "text": {"text": "hi"},
        "image": {"imageUrl": "https://x/i.png"},
        "audio": {"audioUrl": "https://x/a.mp3"},
        "video": {"videoUrl": "https://x/v.mp4"},
        "file": {"fileUrl": "https://x/f.pdf"},
        "bloc": {"items": [{"type": "text", "payload": {"text": "hi"}}]},
    }
    sample = samples[message_type]
    sent = {"type": message_type, **sample, "userId": "user_1"}
    assert not is_valid(_channel(message_type), sent)
    parsed = hitl.parse_hitl_payload(message_type, sent)
    assert parsed.user_id == "user_1"
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == {**sample, "userId": "user_1"}


def test_channel_payload_drops_a_type_key_as_any_unknown_key() -> None:
    # The schema has no `type` property: zod strips it whatever its value, and so do we.
    parsed = hitl.parse_hitl_payload("text", {"type": "image", "text": "hi"})
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == {"text": "hi"}


def test_parse_hitl_payload_refuses_a_type_outside_the_channel() -> None:
    with pytest.raises(KeyError):
        hitl.parse_hitl_payload("location", {"latitude": 1, "longitude": 2})


def test_errors_name_the_field_on_the_wire() -> None:
    with pytest.raises(ValidationError) as caught:
        hitl.StartHitlInput.model_validate(
            {"userId": "u", "messageHistory": [_history("text", {"text": ""}), _history("image", {"imageUrl": "u"})]}
        )
    assert [error["loc"] for error in caught.value.errors()] == [("messageHistory", 0, "payload", "text")]


def test_null_is_refused_on_the_wire_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as caught:
        hitl.CreateUserInput.model_validate({"name": "Ada", "email": None, "pictureUrl": None})
    errors = caught.value.errors()
    assert {error["loc"] for error in errors} == {("email",), ("pictureUrl",)}
    assert {error["type"] for error in errors} == {"null_not_allowed"}


def test_python_construction_takes_field_names_and_none() -> None:
    built = hitl.HistoryMessage(
        source=hitl.UserSource(type="user", user_id="u"),
        type="image",
        payload={"image_url": "https://x/i.png", "title": None},
    )
    assert built.payload == hitl.ImagePayload(image_url="https://x/i.png")
    assert built.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "source": {"type": "user", "userId": "u"},
        "type": "image",
        "payload": {"imageUrl": "https://x/i.png"},
    }


def test_python_construction_refuses_an_unknown_keyword() -> None:
    # Only the wire is lenient: a misspelt field in our own code is an error, not silently dropped.
    with pytest.raises(ValidationError):
        hitl.HitlText(text="hi", additional_dta="{}")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        hitl.HistoryMessage(source=hitl.BotSource(type="bot"), type="text", payload={"text": "hi", "extra": 1})


def test_python_construction_still_checks_the_payload_against_the_type() -> None:
    with pytest.raises(ValidationError):
        hitl.HistoryMessage(source=hitl.BotSource(type="bot"), type="image", payload=hitl.TextPayload(text="hi"))


def test_dropdown_and_choice_payloads_keep_their_own_class() -> None:
    parsed = hitl.HistoryMessage.model_validate(_history("dropdown", {"text": "t", "options": []}))
    assert type(parsed.payload) is hitl.DropdownPayload


def test_model_validate_json_follows_the_wire_rules() -> None:
    assert hitl.HitlText.model_validate_json('{"text": "hi", "user_id": "u"}').user_id is None
    assert hitl.HitlText.model_validate_json('{"text": "hi", "userId": "u"}').user_id == "u"
    with pytest.raises(ValidationError):
        hitl.HitlText.model_validate_json('{"text": "hi", "userId": null}')


PLUGIN_HISTORY = [
    _history("text", {"text": "hello", "metadata": {"webchat": {"device": "mobile"}}}, USER),
    _history("text", {"type": "text", "text": "An agent joined."}),
    _history("text", {"type": "text", "text": "Hi, I am Bob", "userId": "user_webchat"}),
    _history("image", {"type": "image", "imageUrl": "https://x/i.png", "userId": "user_1", "extra": None}, USER),
    _history("bloc", {"type": "bloc", "items": [{"type": "markdown", "payload": {"markdown": "*x*", "k": 1}}]}),
]
KEPT_HISTORY = [
    _history("text", {"text": "hello"}, USER),
    _history("text", {"text": "An agent joined."}),
    _history("text", {"text": "Hi, I am Bob"}),
    _history("image", {"imageUrl": "https://x/i.png"}, USER),
    _history("bloc", {"items": [{"type": "markdown", "payload": {"markdown": "*x*"}}]}),
]


def test_a_history_relayed_by_the_plugin_is_accepted_and_its_unknown_keys_dropped() -> None:
    # A second handoff: earlier messages come back verbatim, with the plugin's `type`/`userId` and channel keys.
    parsed = hitl.StartHitlInput.model_validate({"userId": "u", "messageHistory": PLUGIN_HISTORY, "x": 1})
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped == {"userId": "u", "messageHistory": KEPT_HISTORY}


def test_in_a_relayed_history_a_wrong_type_still_names_the_field() -> None:
    history = [*PLUGIN_HISTORY, _history("image", {"type": "image", "imageUrl": 7, "userId": "u"})]
    with pytest.raises(ValidationError) as caught:
        hitl.StartHitlInput.model_validate({"userId": "u", "messageHistory": history})
    assert [error["loc"] for error in caught.value.errors()] == [("messageHistory", 5, "payload", "imageUrl")]
