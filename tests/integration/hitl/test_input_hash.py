"""The hash that tells a retried startHitl from a new one: stable, canonical, and still matching older records."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from external_adapters import Installation
from integration.hitl.input_hash import answers, input_hash

INSTALLATION = Installation(
    bot_id="bot_1", bot_user_id="bot_user_1", integration_id="intg_1", integration_alias="hitl", webhook_id="wh_1"
)
START = {"userId": "user_1", "title": "Refund é", "messageHistory": [{"type": "text", "payload": {"text": "hi 😀"}}]}


def _older_form(installation: Installation, raw_input: Any) -> str:
    # The form start records were written in before orjson: json.dumps, keys sorted, ASCII escapes.
    canonical = json.dumps([installation.bot_id, installation.integration_id, raw_input], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def test_the_same_input_has_the_same_hash_whatever_its_key_order() -> None:
    reordered = dict(reversed(list(START.items())))
    assert input_hash(INSTALLATION, START) == input_hash(INSTALLATION, reordered)
    assert input_hash(INSTALLATION, START).startswith("2:")


def test_another_input_or_installation_has_another_hash() -> None:
    other_bot = dataclasses.replace(INSTALLATION, bot_id="bot_2")
    assert input_hash(INSTALLATION, {**START, "title": "Other"}) != input_hash(INSTALLATION, START)
    assert input_hash(other_bot, START) != input_hash(INSTALLATION, START)


def test_a_record_written_in_the_older_form_still_answers_the_same_input() -> None:
    stored = _older_form(INSTALLATION, START)
    assert answers(stored, input_hash(INSTALLATION, START), INSTALLATION, START)
    assert not answers(
        stored, input_hash(INSTALLATION, {**START, "title": "Other"}), INSTALLATION, {**START, "title": "Other"}
    )


def test_a_current_hash_that_differs_is_never_taken_for_the_older_form() -> None:
    stored = input_hash(INSTALLATION, {**START, "title": "Other"})
    assert not answers(stored, input_hash(INSTALLATION, START), INSTALLATION, START)


def test_input_orjson_cannot_encode_is_hashed_in_the_older_form_stably() -> None:
    huge = {**START, "hitlSession": {"n": 2**70}}  # json.loads keeps it exact; orjson encodes 64 bits at most
    assert input_hash(INSTALLATION, huge) == _older_form(INSTALLATION, huge)
    assert answers(input_hash(INSTALLATION, huge), input_hash(INSTALLATION, huge), INSTALLATION, huge)
