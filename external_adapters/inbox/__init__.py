"""The built-in inbox: an embedded helpdesk with its own SQLite store and an agent web console."""

from .adapter import InboxAdapter, parse_options
from .config import InboxConfig, InboxOptions, InboxSession
from .service import InboxService

__all__ = ["InboxAdapter", "InboxConfig", "InboxOptions", "InboxService", "InboxSession", "parse_options"]
