"""The JSON loader for untrusted text: deep nesting is a ValueError, lone surrogates become U+FFFD."""

from __future__ import annotations

import json

import pytest

from external_adapters.safe_json import UnreadableJsonError, clean_text, loads, loads_body


@pytest.mark.parametrize("text", ["[" * 100_000, "[" * 5_000 + "]" * 5_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_deep_nesting_is_a_value_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(UnreadableJsonError, match="nested too deeply"):
        loads(text)


def test_lone_surrogates_become_replacement_characters_in_values_and_keys() -> None:
    parsed = loads('{"k\\udc00": ["x\\ud800y", "\\ud83d\\ude00", 1.5, null]}')
    assert parsed == {"k\ufffd": ["x\ufffdy", "\U0001f600", 1.5, None]}
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # encodable now


def test_ordinary_json_is_read_as_json_loads_reads_it() -> None:
    text = '{"a": [1, 2.5, "é", true, null], "b": {"c": "\\\\ud800 is no escape here"}}'
    assert loads(text) == json.loads(text)


def test_invalid_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads("{nope")


def test_clean_text_replaces_only_lone_surrogates() -> None:
    assert clean_text("a\udcffb\U0001f600") == "a\ufffdb\U0001f600"
    assert clean_text("plain") == "plain"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinity_are_not_json(text: str) -> None:
    with pytest.raises(ValueError, match="is not JSON"):
        loads(text)


def test_a_body_is_read_as_utf8_and_bytes_that_are_not_become_replacement_characters() -> None:
    assert loads_body('{"name": "Zoë"}'.encode()) == {"name": "Zoë"}
    assert loads_body(b'{"name": "Zo\xeb"}') == {"name": "Zo\ufffd"}
    assert loads_body(b'{"text": "\\ud800"}') == {"text": "\ufffd"}
