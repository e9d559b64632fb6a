"""``hitl-bridge serve``: check the settings, take the port, announce, then run until interrupted.

The order matters for a newcomer: a refused setting or a busy port is one line on stderr, printed before
anything else (no banner, no traceback), and the banner only appears once the port is really ours.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from coordination import BackendError, check_backend

from .settings import Settings

log = logging.getLogger(__name__)
EXIT_REFUSED = 2


class StartError(Exception):
    """The server cannot start; the message is one line telling what to change."""


def package_version() -> str:
    """The installed version of hitl-bridge."""
    try:
        return version("hitl-bridge")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def serve(settings: Settings) -> int:
    """Run the server until interrupted; ``2`` with one line on stderr when it cannot start."""
    from .logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    try:
        sock = _checked_socket(settings)
    except StartError as exc:
        print(f"hitl-bridge: {exc}", file=sys.stderr, flush=True)
        return EXIT_REFUSED
    if settings.insecure and settings.bp_token is not None and not settings.endpoint_protected:
        log.warning("HITL_BRIDGE_INSECURE=true: any bot may call the operations, on any path")
    settings = settings.model_copy(update={"port": sock.getsockname()[1]})
    if settings.workers > 1:
        return _supervise(settings, sock)
    try:
        _run(settings, sock)
    except BackendError as exc:  # raised as the app starts, once the port was taken: one line, no traceback
        print(f"hitl-bridge: {exc}", file=sys.stderr, flush=True)
        return EXIT_REFUSED
    return 0


def _supervise(settings: Settings, sock: socket.socket) -> int:
    """N workers on the socket bound here (port 0 chosen once): see :mod:`integration.supervisor` for why."""
    from .app import create_app
    from .mounts import web_links
    from .supervisor import supervise

    announce(settings, web_links(create_app(settings)))
    log.info("serving with %d workers", settings.workers)
    return supervise(settings, sock, lambda supervisor_pid: _run(settings, sock, supervisor_pid))


def _checked_socket(settings: Settings) -> socket.socket:
    problem = settings.start_problem()
    if problem is not None:
        raise StartError(problem)
    try:
        asyncio.run(check_backend(settings.data_dir, settings.database_url))
    except BackendError as exc:
        raise StartError(str(exc)) from None
    return bind(settings.host, settings.port)


def _run(settings: Settings, sock: socket.socket, supervisor_pid: int | None = None) -> None:
    """Serve on ``sock`` until stopped: the only process, or a worker of ``supervisor_pid`` (which announced)."""
    from aiohttp import web

    from .access_log import access_logger_for
    from .app import create_app
    from .mounts import web_links

    app = create_app(settings)
    if supervisor_pid is None:
        announce(settings, web_links(app))
    else:
        from .supervisor import orphan_watch

        app.cleanup_ctx.append(orphan_watch(supervisor_pid))
    app.on_startup.append(_freeze_startup_heap)  # after the clients and adapters (cleanup_ctx) are built
    secret = settings.secret_path.get_secret_value() if settings.secret_path else None
    web.run_app(app, sock=sock, print=None, access_log_class=access_logger_for(secret))


async def _freeze_startup_heap(app: object) -> None:
    """Leave what startup built (modules, pydantic schemas, clients) out of every later garbage collection.

    A request with a long history allocates thousands of objects and sets off full collections, each of which
    walked the whole startup heap again; frozen, those objects are never freed (they live as long as the process).
    """
    gc.collect()
    gc.freeze()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``0`` picks a free port), before the app starts.

    Raises:
        StartError: the port is taken, or the host cannot be listened on; the line names the settings.
    """
    try:
        return socket.create_server((host.strip("[]"), port), family=_family(host), backlog=128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartError(
                f"port {port} on {host} is already in use: choose another with HITL_BRIDGE_PORT or --port"
            ) from None
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise StartError(
            f"cannot listen on {host}:{port} ({reason}): change HITL_BRIDGE_HOST / --host or HITL_BRIDGE_PORT / --port"
        ) from None


def _family(host: str) -> socket.AddressFamily:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return socket.AF_INET  # a name such as localhost: its IPv4 address, as aiohttp's default site would use
    return socket.AF_INET6 if literal.version == 6 else socket.AF_INET


def announce(settings: Settings, links: Sequence[tuple[str, str]] = ()) -> None:
    """Print where everything is served (once the port is bound); ``links`` are the adapters' pages."""
    base = settings.self_url
    lines = [f"hitl-bridge {package_version()} on {base}", f"  Botpress operations: POST {base}/"]
    lines.extend(f"  {label.split(':')[0] + ':':<20} {base}{path}" for path, label in links)
    if settings.sandbox_enabled:
        lines.append(f"  Sandbox chat page:   {base}/sandbox")
        lines.append(f"  Emulated Runtime API: {base}/sandbox/api")
    print("\n".join(lines), flush=True)
