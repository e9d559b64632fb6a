"""The ``hitl-bridge`` command: serve, sandbox, definition, version, and the commands adapters add."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from external_adapters.extensions import CommandEnvironment

from .mounts import add_adapter_commands
from .serving import package_version, serve
from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also has a HITL_BRIDGE_* environment variable)."""
    parser = argparse.ArgumentParser(prog="hitl-bridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (sandbox + inbox without BP_TOKEN on a loopback host)")
    _server_options(serve)
    sandbox = commands.add_parser("sandbox", help="run the server with the Botpress emulator, for any adapter")
    _server_options(sandbox)
    sandbox.add_argument(
        "--config", default=None, help=_described("sandbox_configuration", "the installation's configuration, as JSON")
    )
    definition = commands.add_parser("definition", help="print the integration definition JSON for Botpress")
    definition.add_argument("--adapter", default=None, help=_described("adapter", "adapter whose definition to print"))
    commands.add_parser("version", help="print the version")
    add_adapter_commands(commands)
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help=_described("host", "interface to listen on"))
    parser.add_argument("--port", type=int, default=None, help=_described("port", "port to listen on (0: a free one)"))
    parser.add_argument("--adapter", default=None, help=_described("adapter", "default adapter (inbox, zendesk, ...)"))
    parser.add_argument("--data-dir", default=None, help=_described("data_dir", "where adapters keep their files"))
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=_described("workers", "worker processes sharing the port; above 1 needs HITL_BRIDGE_DATABASE_URL"),
    )


def _described(setting: str, text: str) -> str:
    """Help text naming the setting's environment variable and default, both taken from :class:`Settings`."""
    default = Settings.model_fields[setting].get_default(call_default_factory=True)
    shown = json.dumps(default) if isinstance(default, dict | list) else str(default)
    return f"{text} (env HITL_BRIDGE_{setting.upper()}, default {shown})".replace("%", "%%")


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the environment, with command-line options on top."""
    given = {
        "host": args.host,
        "port": args.port,
        "adapter": args.adapter,
        "data_dir": args.data_dir,
        "workers": args.workers,
    }
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
    if getattr(args, "adapter_name", None) is not None:
        return _adapter_command(args, Settings())
    if args.command == "sandbox":
        config = {"sandbox_configuration": json.loads(args.config)} if args.config else {}
        return serve(load_settings(args, sandbox=True, **config))
    return serve(load_settings(args))


def _adapter_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run a command an adapter added, in that adapter's data directory and with its options."""
    name = args.adapter_name
    env = CommandEnvironment(settings.data_dir / name, settings.options_for(name), sys.stdin, sys.stdout)
    exit_code: int = args.run(args, env)
    return exit_code
