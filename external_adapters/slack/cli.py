"""``hitl-bridge slack manifest --request-url URL``: print the Slack app manifest (JSON) to create the app from.

The server adds this command through the ``hitl_bridge.cli`` entry point (:func:`add_commands`).
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

from external_adapters.extensions import CommandEnvironment

from .manifest import manifest


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The ``hitl_bridge.cli`` hook: ``hitl-bridge slack manifest``."""
    commands = parser.add_subparsers(dest="slack_command", required=True)
    printer = commands.add_parser("manifest", help="print the Slack app manifest (JSON) for this bridge")
    printer.add_argument(
        "--request-url",
        required=True,
        help="the installation's webhook URL (Botpress shows it), where Slack sends events and button clicks",
    )
    printer.add_argument("--name", default="hitl-bridge", help="the app's and its bot's name in Slack")
    printer.set_defaults(run=_run_manifest)


def _run_manifest(args: argparse.Namespace, env: CommandEnvironment) -> int:
    return print_manifest(env, args.request_url, args.name)


def print_manifest(env: CommandEnvironment, request_url: str, name: str) -> int:
    """Print the manifest for ``request_url``; exit code 2 (and one line) when it is not an https URL."""
    parts = urlsplit(request_url)
    if parts.scheme != "https" or not parts.netloc:
        print("error: --request-url must be an https:// URL (Slack sends to https only)", file=env.stdout)
        return 2
    print(json.dumps(manifest(request_url, name), indent=2), file=env.stdout)
    return 0
