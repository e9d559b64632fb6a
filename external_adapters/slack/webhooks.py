"""Slack's deliveries to the Request URL: the v0 signature, and the three payloads the bridge reads.

Slack sends Events API requests as JSON and interactivity requests (button clicks) form-encoded with one
``payload=<JSON>`` field, both to the same URL and both signed the same way (``X-Slack-Signature``,
``X-Slack-Request-Timestamp``). The signature is checked with ``slack_sdk``'s :class:`SignatureVerifier` on the
exact bytes Slack sent, within its 5-minute window; the clock is injectable so tests can pin "now".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from .. import safe_json
from ..errors import InvalidSignatureError, InvalidWebhookError

SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"
RETRY_HEADER = "x-slack-retry-num"


class _FixedClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def verify_signature(signing_secret: str, headers: Mapping[str, str], body: bytes, now: Callable[[], float]) -> None:
    """Check ``X-Slack-Signature`` (v0) over ``body`` and that the timestamp is within 5 minutes of ``now()``.

    Raises:
        InvalidSignatureError: a header is missing, the timestamp is stale or unreadable, or the signature differs.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    signature, timestamp = lowered.get(SIGNATURE_HEADER), lowered.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise InvalidSignatureError("missing Slack signature headers")
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now))
    try:
        valid = verifier.is_valid(body, timestamp.strip(), signature.strip())
    except ValueError:  # a timestamp that is not a number
        valid = False
    if not valid:
        raise InvalidSignatureError("Slack signature does not match, or its timestamp is not within 5 minutes")


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SharedFile(_Wire):
    """A file shared in a message (``files[]`` of a ``file_share`` message)."""

    id: str
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    size: int | None = None
    url_private_download: str | None = None
    url_private: str | None = None


class MessageEvent(_Wire):
    """A ``message`` event (``message.channels`` / ``message.groups``)."""

    type: str
    subtype: str | None = None
    channel: str | None = None
    user: str | None = None
    bot_id: str | None = None
    text: str = ""
    ts: str = ""
    thread_ts: str | None = None
    files: list[SharedFile] = Field(default_factory=list)


class Authorization(_Wire):
    """Who the delivery is for: with a bot token, the bot user (``is_bot``)."""

    user_id: str | None = None
    is_bot: bool = False


class EventCallback(_Wire):
    """An Events API delivery; ``event`` stays raw until its type is known."""

    type: Literal["event_callback"]
    event_id: str
    event: dict[str, object]
    authorizations: list[Authorization] = Field(default_factory=list)

    @property
    def bot_user_ids(self) -> set[str]:
        """The bot users the delivery is authorised for: messages they wrote are the bridge's own."""
        return {auth.user_id for auth in self.authorizations if auth.is_bot and auth.user_id}

    def message(self) -> MessageEvent | None:
        """The event as a ``message`` event, or ``None`` when it is another kind or unreadable."""
        if self.event.get("type") != "message":
            return None
        try:
            return MessageEvent.model_validate(self.event)
        except ValidationError:
            return None


class UrlVerification(_Wire):
    """The handshake Slack makes when the Request URL is set: answer its challenge."""

    type: Literal["url_verification"]
    challenge: str


class ActionUser(_Wire):
    """The Slack user who clicked."""

    id: str
    username: str | None = None
    name: str | None = None


class ActionContainer(_Wire):
    """The message the clicked button belongs to."""

    message_ts: str | None = None
    channel_id: str | None = None


class BlockAction(_Wire):
    """One clicked element."""

    action_id: str
    value: str | None = None
    action_ts: str | None = None


class ClickedMessage(_Wire):
    """The message whose button was clicked, as Slack has it now."""

    text: str | None = None
    blocks: list[dict[str, JsonValue]] = Field(default_factory=list)


class BlockActions(_Wire):
    """An interactivity delivery: a button of one of the bridge's messages was clicked."""

    type: Literal["block_actions"]
    user: ActionUser
    container: ActionContainer = Field(default_factory=ActionContainer)
    actions: list[BlockAction] = Field(default_factory=list)
    message: ClickedMessage | None = None


Delivery = EventCallback | UrlVerification | BlockActions


_KINDS: dict[str, type[EventCallback] | type[UrlVerification] | type[BlockActions]] = {
    "event_callback": EventCallback,
    "url_verification": UrlVerification,
    "block_actions": BlockActions,
}


def parse_delivery(body: str | None) -> Delivery | None:
    """The delivery in a verified body (JSON, or form-encoded ``payload=``); ``None`` for a kind the bridge ignores.

    Raises:
        InvalidWebhookError: the body is neither JSON nor a form with a JSON ``payload``.
    """
    data = _decode(body or "")
    if not isinstance(data, dict):
        return None
    model = _KINDS.get(str(data.get("type")))
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _decode(body: str) -> object:
    text = body.strip()
    if not text.startswith(("{", "[")):
        payload = parse_qs(text).get("payload")
        if not payload:
            raise InvalidWebhookError("Slack delivery is neither JSON nor a form with a payload")
        text = payload[0]
    try:
        return safe_json.loads(text)
    except ValueError:
        raise InvalidWebhookError("Slack delivery's JSON is unreadable") from None


def thread_key(channel_id: str, thread_ts: str) -> str:
    """A Slack session id (shared decision): ``"<channel_id>:<parent_ts>"``."""
    return f"{channel_id}:{thread_ts}"


def split_session_id(external_session_id: str) -> tuple[str, str] | None:
    """``(channel_id, parent_ts)`` of a session id, or ``None`` when it is not one."""
    channel_id, sep, parent_ts = external_session_id.partition(":")
    return (channel_id, parent_ts) if sep and channel_id and parent_ts else None
