"""The ``hitl-bridge`` command: serve, sandbox, definition, version, inbox create-admin."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import ValidationError

from .settings import Settings


def package_version() -> str:
    """The installed version of hitl-bridge."""
    try:
        return version("hitl-bridge")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also has a HITL_BRIDGE_* environment variable)."""
    parser = argparse.ArgumentParser(prog="hitl-bridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (sandbox + inbox when BP_TOKEN is unset)")
    _server_options(serve)
    sandbox = commands.add_parser("sandbox", help="run the server with the Botpress emulator, for any adapter")
    _server_options(sandbox)
    sandbox.add_argument("--config", help="the installation's configuration, as JSON", default=None)
    definition = commands.add_parser("definition", help="print the integration definition JSON for Botpress")
    definition.add_argument("--adapter", default=None, help="adapter whose definition to print")
    commands.add_parser("version", help="print the version")
    inbox = commands.add_parser("inbox", help="manage the built-in inbox")
    inbox_commands = inbox.add_subparsers(dest="inbox_command", required=True)
    admin = inbox_commands.add_parser("create-admin", help="create (or reset) an inbox admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--adapter", default=None, help="default adapter (inbox, zendesk, ...)")
    parser.add_argument("--data-dir", default=None)


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the environment, with command-line options on top."""
    given = {"host": args.host, "port": args.port, "adapter": args.adapter, "data_dir": args.data_dir}
    values = {key: value for key, value in given.items() if value is not None} | overrides
    return Settings(**values)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hitl-bridge`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ValidationError as exc:
        print(f"hitl-bridge: invalid settings: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "version":
        print(package_version())
        return 0
    if args.command == "definition":
        from .definition_cli import definition_command

        settings = Settings()
        return definition_command(args.adapter or settings.adapter, settings.renames, sys.stdout)
    if args.command == "inbox":
        from .inbox_cli import create_admin_command

        return create_admin_command(Settings(), args.email, args.password, sys.stdout)
    if args.command == "sandbox":
        config = json.loads(args.config) if args.config else {}
        return serve(load_settings(args, sandbox=True, sandbox_configuration=config))
    return serve(load_settings(args))


def serve(settings: Settings) -> int:
    """Run the server until interrupted."""
    from aiohttp import web

    from .access_log import access_logger_for
    from .app import create_app
    from .logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    _announce(settings)
    secret = settings.secret_path.get_secret_value() if settings.secret_path else None
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log_class=access_logger_for(secret))
    return 0


def _announce(settings: Settings) -> None:
    base = settings.self_url
    lines = [f"hitl-bridge {package_version()} on {base}", f"  Botpress operations: POST {base}/"]
    if settings.console and "inbox" in settings.enabled_adapters:
        lines.append(f"  Agent console:       {base}/console")
    if settings.sandbox_enabled:
        lines.append(f"  Sandbox chat page:   {base}/sandbox")
        lines.append(f"  Emulated Runtime API: {base}/sandbox/api")
    print("\n".join(lines), flush=True)
