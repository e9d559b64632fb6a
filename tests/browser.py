"""What every browser test shares: Debian's Chromium, driven by pip's Playwright (its own downloads are unreachable).

A missing Chromium skips the browser tests on a developer's machine, with the reason, but fails them in CI
(``CI`` set, as ``.ci/run`` is run), where ``.ci/run`` installs it: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    """Whether this run is CI's (``CI`` set to anything but empty, ``0`` or ``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def require_chromium() -> None:
    """Return when Chromium and Playwright are usable; otherwise skip, or fail in CI."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "pip's playwright is not installed (pip install -e '.[test]')"
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"{problem}; CI (CI={os.environ['CI']}) must run the browser tests", pytrace=False)
    pytest.skip(problem)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A running headless Chromium (a Playwright ``Browser``), closed on the way out whatever happens."""
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Any, width: int = 1440, height: int = 900) -> Any:
    """A page in a fresh browser context (its own cookies) with a ``width`` by ``height`` viewport.

    Waits time out after 10 s (Playwright's 30 s only slows a failing run down)."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    return await context.new_page()


async def no_sideways_scroll(page: Any) -> bool:
    """Whether the page fits its viewport's width (the document cannot scroll sideways)."""
    fits: bool = await page.evaluate(
        "() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
    )
    return fits


def screenshot_dir() -> Path:
    """Where browser tests save their screenshots: ``$HITL_BRIDGE_SCREENSHOTS`` when set (``docs/img`` refreshes the
    docs' pictures), otherwise a folder under the system's temporary directory, so that a test run never changes
    the working tree."""
    chosen = os.environ.get("HITL_BRIDGE_SCREENSHOTS", "").strip()
    folder = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "hitl-bridge-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
