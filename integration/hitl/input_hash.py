"""What identifies a retry of the same startHitl call: a hash of the installation and the input.

The canonical form is orjson's, keys sorted (``2:`` before the digest): about a tenth of ``json.dumps``'s time
on a 1,000-message history. Start records written before it (by ``json.dumps(..., sort_keys=True,
default=str)``, no prefix) live 24 hours: :func:`answers` still recognises them, computing that older form only
for such a record, so a retry across the upgrade resumes its session instead of opening a second one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from external_adapters import Installation

_FORM = "2:"
"""The prefix of a hash of orjson's canonical form (the older form has none)."""


def input_hash(installation: Installation, raw_input: Any) -> str:
    """The hash of this call, in the current form (the older one for input orjson cannot encode)."""
    try:
        canonical = orjson.dumps([installation.bot_id, installation.integration_id, raw_input], option=_SORTED)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a lone surrogate, a key not a string
        return _older_hash(installation, raw_input)
    return _FORM + _digest(canonical)


def answers(stored_hash: str, current_hash: str, installation: Installation, raw_input: Any) -> bool:
    """Whether a start record's ``stored_hash`` is this call's, in the current form or the older one."""
    if stored_hash == current_hash:
        return True
    return not stored_hash.startswith(_FORM) and stored_hash == _older_hash(installation, raw_input)


_SORTED = orjson.OPT_SORT_KEYS


def _older_hash(installation: Installation, raw_input: Any) -> str:
    canonical = json.dumps([installation.bot_id, installation.integration_id, raw_input], sort_keys=True, default=str)
    return _digest(canonical.encode("utf-8"))


def _digest(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()[:32]
