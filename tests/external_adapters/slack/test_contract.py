"""The Slack adapter passes the shared adapter contract suite, against the stateful fake Slack."""

from __future__ import annotations

from external_adapters.contract import AdapterContract


class TestSlackContract(AdapterContract):
    """Runs every contract test with the ``harness`` fixture from this folder's conftest."""
