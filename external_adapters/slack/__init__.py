"""The Slack adapter: each handoff a thread in a support channel, claimed and closed with buttons."""

from .adapter import SlackAdapter
from .config import SlackConfig, SlackSession
from .runtime import SlackRuntime

__all__ = ["SlackAdapter", "SlackConfig", "SlackRuntime", "SlackSession"]
