"""Header decoding, settings, logging and the command line."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable

import pytest

from integration.cli import main
from integration.context import context_from_headers, decode_configuration, encode_configuration
from integration.errors import ContextError, new_error_id
from integration.logging_setup import JsonFormatter, configure_logging, trace_id_var
from integration.serving import package_version
from integration.settings import Settings
from tests.factories import runtime_headers


@pytest.mark.parametrize(
    "encode",
    [
        base64.b64encode,
        base64.urlsafe_b64encode,
        lambda raw: base64.b64encode(raw).rstrip(b"="),
        lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"="),
    ],
)
def test_configuration_decodes_in_every_alphabet(encode: Callable[[bytes], bytes]) -> None:
    raw = json.dumps({"subdomain": "acme", "note": "ü>>??"}).encode()
    assert decode_configuration(encode(raw).decode()) == {"subdomain": "acme", "note": "ü>>??"}


@pytest.mark.parametrize("value", ["@@@", base64.b64encode(b"[1,2]").decode(), base64.b64encode(b"{oops").decode()])
def test_bad_configuration_is_a_context_error(value: str) -> None:
    with pytest.raises(ContextError, match="Invalid configuration header"):
        decode_configuration(value)


def test_context_carries_installation_and_trace() -> None:
    headers = runtime_headers("ping", {"a": 1}, **{"x-bp-configuration-type": "oauth", "tracestate": "k=v"})
    ctx = context_from_headers(headers)
    assert ctx.installation.bot_id == headers["x-bot-id"] and ctx.configuration == {"a": 1}
    assert ctx.configuration_type == "oauth"
    assert ctx.trace_headers == {"traceparent": headers["traceparent"], "tracestate": "k=v"}
    assert ctx.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_round_trip_encoding() -> None:
    assert decode_configuration(encode_configuration({"x": [1, "é"]})) == {"x": [1, "é"]}


def test_error_ids_have_the_sdk_format() -> None:
    assert len({new_error_id() for _ in range(50)}) == 50
    assert new_error_id().startswith("err_") and "x" in new_error_id()


def test_settings_read_botpress_variables_as_the_sdk_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BP_API_URL", "https://bp.example.test")
    monkeypatch.setenv("BP_TOKEN", "bp_pat_secret")
    monkeypatch.setenv("HITL_BRIDGE_RENAMES", '{"actions": {"startHitl": "createTicket"}, "channel": "ticket"}')
    monkeypatch.setenv("HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__ADMIN_EMAIL", "a@b.c")
    settings = Settings()
    assert settings.effective_bp_api_url == "https://bp.example.test"
    assert not settings.sandbox_enabled and "bp_pat_secret" not in repr(settings)
    assert settings.renames.action("startHitl") == "createTicket" and settings.renames.channel == "ticket"
    assert settings.options_for("inbox") == {"admin_email": "a@b.c"}


def test_sandbox_points_the_client_at_itself() -> None:
    settings = Settings(port=9123)
    assert settings.sandbox_enabled and settings.effective_bp_api_url == "http://127.0.0.1:9123/sandbox/api"


def test_renames_refuse_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown interface names"):
        Settings(renames={"actions": {"openTicket": "x"}})


def test_json_logs_carry_the_trace_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    token = trace_id_var.set("abc123")
    try:
        logging.getLogger("hitl.test").info("hello %s", "world")
    finally:
        trace_id_var.reset(token)
        logging.getLogger().handlers.clear()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "hello world" and line["trace_id"] == "abc123" and line["level"] == "INFO"
    assert JsonFormatter().format(logging.makeLogRecord({"msg": "x"}))


def test_version_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == package_version() != "0.0.0+unknown"


def test_invalid_settings_are_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["HITL_BRIDGE_PORT"] = "not-a-port"
    assert main(["serve"]) == 2
    assert "invalid settings" in capsys.readouterr().err


def test_unknown_adapter_definition_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["definition", "--adapter", "nope"]) == 2
    assert "inbox" in capsys.readouterr().err


def test_definition_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["definition", "--adapter", "zendesk"]) == 0
    body = json.loads(capsys.readouterr().out)
    required = body["actions"]["startHitl"]["input"]["schema"]["required"]
    assert {"userId", "messageHistory"} <= set(required)
    assert body["interfaces"]["hitl<hitlTicket>"]["version"] == "2.1.0"
