"""Expiring links signed with a key every worker shares, for files re-served to people without a login.

A link ends in ``?expires=<unix>&sig=<hex>``, the HMAC-SHA256 of ``<file key>:<expires>``: the link itself is the
permission. The Slack adapter (agents' files) and the inbox (agents' attachments) both serve files at such links,
each with its own key and path.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["link_query", "link_valid"]


def link_query(key: bytes, file_key: str, expires: int) -> str:
    """The query string of ``file_key``'s link, valid until ``expires`` (Unix seconds)."""
    return f"expires={expires}&sig={_sign(key, file_key, expires)}"


def link_valid(key: bytes, file_key: str, expires: str, signature: str, now: float) -> bool:
    """Whether a link's ``expires`` and ``sig`` (as the client sent them) are ours for ``file_key`` and not past.

    Compared as bytes: ``compare_digest`` refuses a ``str`` with non-ASCII characters, which any client may send.
    """
    if not expires.isdigit() or int(expires) < now:
        return False
    expected = _sign(key, file_key, int(expires))
    return hmac.compare_digest(expected.encode(), signature.encode(errors="surrogatepass"))


def _sign(key: bytes, file_key: str, expires: int) -> str:
    return hmac.new(key, f"{file_key}:{expires}".encode(), hashlib.sha256).hexdigest()
