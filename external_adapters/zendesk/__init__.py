"""The Zendesk Support helpdesk adapter."""

from .adapter import ZendeskAdapter
from .config import ZendeskConfig, ZendeskSession
from .models import ZendeskSubscription
from .runtime import ZendeskRuntime

__all__ = ["ZendeskAdapter", "ZendeskConfig", "ZendeskRuntime", "ZendeskSession", "ZendeskSubscription"]
