"""The Zendesk adapter passes the shared adapter contract suite, against the stateful fake Zendesk."""

from __future__ import annotations

from external_adapters.contract import AdapterContract


class TestZendeskContract(AdapterContract):
    """Runs every contract test with the ``harness`` fixture from this folder's conftest."""
