"""An access log that never prints the secret path segment."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: method, path (secret segment masked), status, size and time."""

    secret: str | None = None

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write the access line."""
        path = redact_path(request.path, self.secret)
        self.logger.info("%s %s %s %s %.1fms", request.method, path, response.status, response.body_length, time * 1000)


def redact_path(path: str, secret: str | None) -> str:
    """``path`` with the secret segment replaced by ``***``."""
    if not secret:
        return path
    return "/".join("***" if segment == secret else segment for segment in path.split("/"))


def access_logger_for(secret: str | None) -> type[AbstractAccessLogger]:
    """The access logger class to give ``web.run_app`` for this secret."""
    return type("ConfiguredAccessLogger", (RedactingAccessLogger,), {"secret": secret})
