"""Application keys of the emulated Runtime API."""

from __future__ import annotations

from aiohttp import web

from ..slot import Slot
from .service import Botpress

BOTPRESS: web.AppKey[Slot[Botpress]] = web.AppKey("sandbox_botpress", Slot)
