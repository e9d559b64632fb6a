"""Client of the Botpress Runtime API, as used by an integration (``/v1/chat/...``)."""

from integration.botpress.client import BotpressClient
from integration.botpress.errors import (
    AlreadyExistsError,
    BotpressApiError,
    BotpressError,
    BotpressOutcomeUnknownError,
    BotpressUnavailableError,
    ForbiddenError,
    InternalError,
    InvalidPayloadError,
    RateLimitedError,
    ResourceNotFoundError,
    UnauthorizedError,
)
from integration.botpress.models import Conversation, Event, Message, MessageDirection, State, StateType, User

__all__ = [
    "AlreadyExistsError",
    "BotpressApiError",
    "BotpressClient",
    "BotpressError",
    "BotpressOutcomeUnknownError",
    "BotpressUnavailableError",
    "Conversation",
    "Event",
    "ForbiddenError",
    "InternalError",
    "InvalidPayloadError",
    "Message",
    "MessageDirection",
    "RateLimitedError",
    "ResourceNotFoundError",
    "State",
    "StateType",
    "UnauthorizedError",
    "User",
]
