"""Zendesk webhook signatures: pinned vectors, the replay window, and the adapter's verify_webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from external_adapters import InvalidSignatureError, WebhookRequest
from external_adapters.zendesk.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify

from .conftest import WEBHOOK_URL

# Computed independently with `printf '%s' "$TS$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
VECTORS = [
    (
        "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==",
        "2022-09-05T09:52:10Z",
        '{"type":"comment"}',
        "GTNd0FDWjRK3YMpO5j6F+pQTg9w8y3rltvxCnYek4zI=",
    ),
    ("whsec-test", "2025-01-01T12:00:00Z", "", "JqjXANB9G2orT8lEd5VbWqAGicU7fUAozbH3ymD25HM="),
]
NOW = datetime(2022, 9, 5, 9, 52, 10, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("secret", "timestamp", "body", "expected"), VECTORS)
def test_sign_matches_pinned_vectors(secret: str, timestamp: str, body: str, expected: str) -> None:
    assert sign(secret, timestamp, body) == expected


def test_old_doc_vector_is_body_then_timestamp_which_we_do_not_accept() -> None:
    """The older "event-connectors" page documents BODY+TIMESTAMP with this vector; current docs say
    TIMESTAMP+BODY, which production senders use. We implement the current scheme, so the old vector fails."""
    secret, body, timestamp = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", '{"say": "hello"}', "2021-07-25T10:00:00Z"
    old_signature = "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="
    assert sign(secret, "", body + timestamp) == old_signature  # what the old page computed
    assert sign(secret, timestamp, body) != old_signature
    now = datetime(2021, 7, 25, 10, 0, tzinfo=UTC).timestamp()
    with pytest.raises(InvalidSignatureError):
        verify(secret, {SIGNATURE_HEADER: old_signature, TIMESTAMP_HEADER: timestamp}, body.encode(), now)


def _headers(secret: str, timestamp: str, body: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, timestamp, body), TIMESTAMP_HEADER: timestamp}


def test_verify_accepts_a_fresh_signature() -> None:
    verify("s3cret", _headers("s3cret", "2022-09-05T09:52:10Z", "{}"), b"{}", NOW + 299)


@pytest.mark.parametrize("skew", [301, -301])
def test_verify_rejects_timestamps_more_than_five_minutes_away(skew: int) -> None:
    with pytest.raises(InvalidSignatureError, match="5 minutes"):
        verify("s3cret", _headers("s3cret", "2022-09-05T09:52:10Z", "{}"), b"{}", NOW + skew)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {TIMESTAMP_HEADER: "2022-09-05T09:52:10Z"},
        {SIGNATURE_HEADER: "abc", TIMESTAMP_HEADER: "yesterday"},
        {SIGNATURE_HEADER: "abc=", TIMESTAMP_HEADER: "2022-09-05T09:52:10Z"},
    ],
)
def test_verify_rejects_missing_or_bad_headers(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignatureError):
        verify("s3cret", headers, b"{}", NOW)


def test_verify_rejects_another_body_or_secret() -> None:
    headers = _headers("s3cret", "2022-09-05T09:52:10Z", '{"a":1}')
    with pytest.raises(InvalidSignatureError):
        verify("s3cret", headers, b'{"a":2}', NOW)
    with pytest.raises(InvalidSignatureError):
        verify("other", headers, b'{"a":1}', NOW)


async def test_adapter_rejects_webhooks_before_register(build: Any, fake_zendesk: Any) -> None:
    request = WebhookRequest(method="POST", path="/", headers=_headers("x", "2022-09-05T09:52:10Z", "{}"), body="{}")
    with pytest.raises(InvalidSignatureError, match="register"):
        await build().adapter.verify_webhook(request)


async def test_adapter_checks_with_the_stored_secret_and_any_header_case(build: Any, fake_zendesk: Any) -> None:
    built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    secret = next(iter(fake_zendesk.webhooks.values()))["secret"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signed = _headers(secret, stamp, "{}")
    upper = {key.title(): value for key, value in signed.items()}
    await built.adapter.verify_webhook(WebhookRequest(method="POST", path="/", headers=upper, body="{}"))
    forged = _headers("guessed", stamp, "{}")
    with pytest.raises(InvalidSignatureError):
        await built.adapter.verify_webhook(WebhookRequest(method="POST", path="/", headers=forged, body="{}"))


async def test_adapter_checks_the_bytes_zendesk_signed_not_a_re_encoding(build: Any, fake_zendesk: Any) -> None:
    built = build()
    await built.adapter.subscribe(WEBHOOK_URL)
    secret = next(iter(fake_zendesk.webhooks.values()))["secret"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = '{ "ticket": "7",\r\n  "note": "Grüße ✓" }\n'.encode()  # spacing and UTF-8 a JSON re-encoding would change
    headers = {SIGNATURE_HEADER: sign(secret, stamp, raw), TIMESTAMP_HEADER: stamp}
    await built.adapter.verify_webhook(WebhookRequest(method="POST", path="/", headers=headers, body=raw.decode()))
    changed = raw.decode().replace("7", "8")
    with pytest.raises(InvalidSignatureError):
        await built.adapter.verify_webhook(WebhookRequest(method="POST", path="/", headers=headers, body=changed))
