"""No secret reaches a log line, at any level: a DEBUG run of an inbox scenario, and the redacting filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from external_adapters.inbox.service import InboxService
from integration.logging_setup import QUIET_LIBRARIES, RedactingFilter, configure_logging
from tests.external_adapters.inbox.conftest import PASSWORD, add_agent, open_session

from .conftest import CLIENT, login

USER_TEXT = "my parcel 77-ZX never came"
AGENT_TEXT = "sorry about parcel 77-ZX, on it"


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The server's logging at DEBUG (as ``HITL_BRIDGE_LOG_LEVEL=debug`` sets it), captured by caplog."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("DEBUG")
    root.handlers.extend(saved_handlers)  # keep caplog's handler, which configure_logging replaced
    caplog.set_level(logging.DEBUG)
    yield caplog
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_a_debug_run_of_the_inbox_logs_no_secret(
    client: TestClient[Any, Any], inbox: InboxService, debug_logging: pytest.LogCaptureFixture
) -> None:
    await inbox.intake.subscribe("bot_2", "intver_2", "wh_2", "http://hooks.test/wh_2")  # makes an HMAC secret
    await add_agent(inbox, "alice")  # stores a password hash
    token = (await login(client))["token"]
    session_id = await open_session(inbox)
    await inbox.intake.add_user_message(session_id, "msg_1", "text", {"text": USER_TEXT})
    await client.post(f"/console/api/sessions/{session_id}/claim", headers=CLIENT)
    reply = await client.post(f"/console/api/sessions/{session_id}/messages", json={"text": AGENT_TEXT}, headers=CLIENT)
    assert reply.status == 201
    installation = await inbox.intake.installation("bot_2", "intver_2")
    assert installation is not None
    hashes = [r["password_hash"] for r in await inbox.store.fetch_all("SELECT password_hash FROM agents")]
    hashes += [r["token_hash"] for r in await inbox.store.fetch_all("SELECT token_hash FROM login_tokens")]
    logged = debug_logging.text + "\n".join(str(r.args) for r in debug_logging.records)
    assert debug_logging.records, "nothing was logged: the scenario proves nothing"
    for secret in [installation.secret, PASSWORD, token, USER_TEXT, AGENT_TEXT, "jane@example.com", *hashes]:
        assert secret not in logged


def test_the_redacting_filter_masks_secret_shaped_values() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("login %s", {"email": "a@b.c", "password": "hunter2hunter2"})
        logger.warning("headers: Authorization: Bearer s3cr3t-t0ken")
        logger.warning("stored $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA and %s", "ab" * 32)
        try:
            raise ValueError("api_token=zd-t0ken-value")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    for secret in ["hunter2hunter2", "s3cr3t-t0ken", "c2FsdA", "ab" * 32, "zd-t0ken-value"]:
        assert secret not in text
    assert "a@b.c" in text and "***" in text and "ValueError" in text
