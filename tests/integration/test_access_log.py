"""The access log never prints the secret path."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from integration.access_log import access_logger_for, redact_path


@pytest.mark.parametrize(
    ("path", "secret", "expected"),
    [
        ("/s3cret/", "s3cret", "/***/"),
        ("/s3cret/x/s3cret", "s3cret", "/***/x/***"),
        ("/other/s3cretish", "s3cret", "/other/s3cretish"),
        ("/s3cret/", None, "/s3cret/"),
    ],
)
def test_redact_path(path: str, secret: str | None, expected: str) -> None:
    assert redact_path(path, secret) == expected


def test_access_line_masks_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    access = access_logger_for("s3cret-path")(logger, "")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(make_mocked_request("POST", "/s3cret-path/"), web.Response(status=200, text="{}"), 0.0123)
    assert "s3cret-path" not in caplog.text
    assert "POST /***/ 200" in caplog.text
