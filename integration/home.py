"""``GET /``: a small page saying what this server is and linking to what it serves (not a 405 for a browser)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from .app_keys import SETTINGS
from .mounts import web_links

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hitl-bridge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}</style>
</head><body>
<h1>hitl-bridge</h1>
<p>A Botpress <code>hitl</code> integration: Botpress sends its operations here as <code>POST</code> requests.</p>
{links}
</body></html>
"""


async def home(request: web.Request) -> web.Response:
    """The page: links to the sandbox chat page and the adapters' pages (an agent console...) when served."""
    settings = request.app[SETTINGS]
    links = [("/health", "Health check")]
    if settings.sandbox_enabled:
        links.insert(0, ("/sandbox", "Sandbox chat page: talk to the emulated bot, ask for a human"))
    links[:0] = web_links(request.app)
    items = "".join(f'<li><a href="{href}">{escape(text)}</a></li>' for href, text in links)
    return web.Response(text=_PAGE.format(links=f"<ul>{items}</ul>"), content_type="text/html")
