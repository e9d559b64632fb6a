"""Tag keys this integration declares. Botpress shows them to bots as ``<integration>:<key>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

USER_ID_TAG: Final = "id"
"""On a user: the helpdesk's id of the person (end user or agent)."""
USER_EMAIL_TAG: Final = "email"
"""On a user: the email it was linked with; one Botpress user per email."""
USER_CREATE_KEY_TAG: Final = "createKey"
"""On a user linked without an email: a random key of that createUser call, so a repeated request finds it."""
CONVERSATION_ID_TAG: Final = "id"
"""On a hitl conversation: the helpdesk's id of the session (ticket, thread...)."""
MESSAGE_ID_TAG: Final = "id"
"""On a message: the helpdesk's id of the message, for acks and de-duplication."""

TagTexts = Mapping[str, tuple[str, str]]
"""Tag key -> (title, description)."""

USER_TAGS: Final[TagTexts] = {
    USER_ID_TAG: ("Helpdesk user id", "The helpdesk's id of this person"),
    USER_EMAIL_TAG: ("Email", "The email this user was linked with"),
    USER_CREATE_KEY_TAG: ("Creation key", "A random key of the createUser call that linked this user without an email"),
}
CONVERSATION_TAGS: Final[TagTexts] = {
    CONVERSATION_ID_TAG: ("Helpdesk session id", "The helpdesk's id of the session"),
}
MESSAGE_TAGS: Final[TagTexts] = {
    MESSAGE_ID_TAG: ("Helpdesk message id", "The helpdesk's id of the message"),
}


def tag_definitions(tags: TagTexts) -> dict[str, dict[str, str]]:
    """Tags as the definition declares them: ``{key: {title, description}}``."""
    return {key: {"title": title, "description": description} for key, (title, description) in tags.items()}
