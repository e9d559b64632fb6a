"""Process settings: how this server runs. Per-installation configuration comes from Botpress instead.

Every variable takes the ``HITL_BRIDGE_`` prefix (nested fields use ``__``), except the two the
Botpress SDK itself uses, ``BP_API_URL`` and ``BP_TOKEN``, which are read as they are.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from definition.renames import Renames
from external_adapters.extensions import WEB_GROUP, extension_names

DEFAULT_BP_API_URL = "https://api.botpress.cloud"
DATABASE_URL_SCHEMES = ("postgresql", "postgres")
"""What ``HITL_BRIDGE_DATABASE_URL`` may start with (libpq takes both spellings)."""


class Settings(BaseSettings):
    """Settings of one hitl-bridge process."""

    model_config = SettingsConfigDict(
        env_prefix="HITL_BRIDGE_",
        env_nested_delimiter="__",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
        # A refused value may be a secret (a database URL holds a password): errors name the field, never echo it.
        hide_input_in_errors=True,
    )

    host: str = Field(default="127.0.0.1", description="Interface to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on (0 picks a free one)")
    public_url: str | None = Field(default=None, description="Public base URL of this server, for printed links")
    bp_api_url: str = Field(
        default=DEFAULT_BP_API_URL,
        validation_alias=AliasChoices("BP_API_URL", "HITL_BRIDGE_BP_API_URL"),
        description="Botpress Runtime API base URL",
    )
    bp_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BP_TOKEN", "HITL_BRIDGE_BP_TOKEN"),
        description="Botpress token (a workspace PAT) used for every Runtime API call",
    )
    bp_timeout_seconds: float = Field(default=60.0, gt=0, description="Timeout of one Runtime API call")
    http_client: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="What sends the Runtime API and helpdesk calls: aiohttp's client (less CPU per call) or httpx's "
        "own transport (httpcore; the tests' respx mocks patch it)",
    )
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Tries per outgoing call (first one included)")
    retry_max_wait_seconds: float = Field(default=30.0, ge=0, description="Longest wait between two tries")
    adapter: str = Field(default="inbox", description="Adapter used when the configuration names none")
    adapter_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Process options per adapter, e.g. HITL_BRIDGE_ADAPTER_OPTIONS__INBOX__..."
    )
    data_dir: Path = Field(default=Path(".hitl-bridge"), description="Where adapters and the sandbox keep files")
    database_url: SecretStr | None = Field(
        default=None,
        description="A postgresql:// URL: keep the coordination (and every store) in PostgreSQL, for several workers; "
        "unset, everything stays in SQLite in the data folder (one process)",
    )
    journal_retention_seconds: float = Field(
        default=7 * 86400.0,
        ge=3600,
        description="How long delivery-journal entries are kept: a redelivery older than that is treated as new",
    )
    work_lease_seconds: float = Field(
        default=60.0,
        ge=5,
        le=3600,
        description="How long a worker holds a queued webhook (renewed while it runs) before another may take it",
    )
    work_concurrency: int = Field(
        default=4, ge=0, le=64, description="Queued webhooks one process applies at once; 0 takes none"
    )
    secret_path: SecretStr | None = Field(
        default=None, description="If set, Botpress operations are served only under /<secret_path>/"
    )
    allowed_bot_ids: list[str] = Field(
        default_factory=list, description="If set, operations from other x-bot-id values get a 403"
    )
    insecure: bool = Field(
        default=False,
        description="With BP_TOKEN, serve even without SECRET_PATH or ALLOWED_BOT_IDS (a warning at start)",
    )
    allow_vendor_base_urls: bool = Field(
        default=False,
        description="Honour vendor URLs from an installation's configuration (Zendesk baseUrl), and let media "
        "downloads reach private, loopback and link-local addresses",
    )
    renames: Renames = Field(default_factory=Renames, description="Renamed actions, events and channel")
    transcript_budget_bytes: int = Field(default=65536, ge=1024, description="Size budget of the condensed history")
    author_cache_seconds: float = Field(default=300.0, ge=0, description="How long an author's external id is cached")
    plugin_takeover_wait_seconds: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="How long a helpdesk event for a new hitl conversation waits for the HITL plugin to take it",
    )
    sandbox: bool | None = Field(
        default=None,
        description="Serve the Botpress emulator; unset means on exactly when BP_TOKEN is unset and host is loopback",
    )
    sandbox_persist: bool = Field(default=False, description="Keep the sandbox's emulated Botpress in SQLite")
    sandbox_concurrent_dispatch: bool = Field(
        default=False, description="The sandbox's bot handles each message and event at once, as Botpress does"
    )
    sandbox_configuration: dict[str, Any] = Field(
        default_factory=dict, description="Configuration the sandbox's runtime sends (x-bp-configuration)"
    )
    sandbox_plugin: dict[str, Any] = Field(
        default_factory=dict, description="HITL plugin configuration the sandbox emulates (messages, timeout...)"
    )
    console: bool = Field(
        default=True,
        description="Run the adapters that serve web pages (the inbox's agent console at /console) and mount them",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Behind a reverse proxy that sets X-Forwarded-For: throttle console logins by its last entry",
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes sharing the port (above 1 needs DATABASE_URL)"
    )
    log_level: str = Field(default="INFO", description="Python log level")
    log_format: Literal["text", "json"] = Field(default="text", description="Log line format")

    @field_validator("database_url")
    @classmethod
    def _postgresql_only(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked after SecretStr wrapped it, so a refused URL (and its password) is never echoed in the error.
        if value is None:
            return None
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in DATABASE_URL_SCHEMES:
            raise ValueError(
                f"HITL_BRIDGE_DATABASE_URL must be a postgresql:// URL, not a {scheme or 'scheme-less'} one "
                "(unset it to keep everything in SQLite in HITL_BRIDGE_DATA_DIR)"
            )
        return value

    @property
    def sandbox_enabled(self) -> bool:
        """Whether the Botpress emulator runs in this process.

        Unset, it runs only for a newcomer's setup: no ``BP_TOKEN``, a loopback host, and no public URL other than a
        loopback one (a loopback host behind a reverse proxy is a production setup too). A production setup with a
        forgotten token must fail to start (:meth:`start_problem`), not expose an emulator to the network.
        """
        if self.sandbox is not None:
            return self.sandbox
        return self.bp_token is None and self.local_only

    @property
    def local_only(self) -> bool:
        """Whether this server is only reachable from this machine, as far as its settings tell."""
        public_host = (urlsplit(self.public_url).hostname or "") if self.public_url else self.host
        return is_loopback_host(self.host) and is_loopback_host(public_host)

    @property
    def endpoint_protected(self) -> bool:
        """Whether Botpress operations are limited to a secret path or to known bots."""
        return self.secret_path is not None or bool(self.allowed_bot_ids)

    def start_problem(self) -> str | None:
        """Why ``serve`` must refuse these settings (one line, naming the variables to set), else ``None``."""
        if self.bp_token is None and not self.sandbox_enabled:
            return (
                f"BP_TOKEN is unset and the sandbox starts by itself only on loopback (not {self._reach()}): "
                "set BP_TOKEN to serve Botpress, or HITL_BRIDGE_SANDBOX=true to serve the sandbox here"
            )
        if self.bp_token is not None and not self.endpoint_protected and not self.insecure:
            return (
                "BP_TOKEN is set but the endpoint is open to anyone: set HITL_BRIDGE_SECRET_PATH or "
                "HITL_BRIDGE_ALLOWED_BOT_IDS (or HITL_BRIDGE_INSECURE=true if it is protected otherwise)"
            )
        return self._workers_problem()

    def _workers_problem(self) -> str | None:
        """Several workers share state only through PostgreSQL, and the sandbox's emulator lives in one process."""
        if self.workers == 1:
            return None
        if self.database_url is None:
            return (
                f"--workers {self.workers} needs HITL_BRIDGE_DATABASE_URL=postgresql://...: the embedded store "
                "(SQLite in HITL_BRIDGE_DATA_DIR) serves one process only; run one worker, or set it"
            )
        if self.sandbox_enabled:
            return (
                f"--workers {self.workers} with the sandbox: its emulated Botpress lives in one process; "
                "run the sandbox with one worker, or set BP_TOKEN to serve Botpress"
            )
        return None

    def _reach(self) -> str:
        where = f"host {self.host!r}"
        return f"{where}, public URL {self.public_url!r}" if self.public_url else where

    @property
    def self_url(self) -> str:
        """Base URL at which this server reaches itself."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_bp_api_url(self) -> str:
        """Where Runtime API calls go: the sandbox's emulator when it runs and no URL was set."""
        if self.sandbox_enabled and "bp_api_url" not in self.model_fields_set:
            return f"{self.self_url}/sandbox/api"
        return self.bp_api_url.rstrip("/")

    @property
    def enabled_adapters(self) -> list[str]:
        """Adapters whose process-wide resources start with the server: the default one, and with ``console`` every
        adapter that serves web pages (a ``hitl_bridge.web`` entry point: the inbox and its console)."""
        names = [self.adapter]
        if self.console:
            names.extend(name for name in extension_names(WEB_GROUP) if name not in names)
        return names

    def options_for(self, adapter_name: str) -> dict[str, Any]:
        """Process options of one adapter (empty when none are set)."""
        return dict(self.adapter_options.get(adapter_name, {}))


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an IP literal, IPv6 maybe in brackets) only listens on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
