"""The admin screens in Chromium, at 1440 and 390 px: agents, templates, labels and shared views.

The console (only it) is mounted on a real inbox service (embedded backend) on a loopback port; sign-in goes through
the API from the browser context, so its cookie is the page's. Each section is also scanned with axe-core (0 serious
or critical violations), checked for sideways scroll, and photographed (into docs/img/ when
HITL_BRIDGE_SCREENSHOTS=docs/img; see tests/browser.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from external_adapters.inbox.config import InboxOptions
from external_adapters.inbox.service import InboxService
from integration.app_keys import ADAPTER_BACKENDS, SETTINGS
from integration.mounts import mount_web
from integration.settings import Settings
from tests.a11y_scan import axe_violations, describe
from tests.browser import chromium, new_page, no_sideways_scroll, screenshot_dir

pytestmark = pytest.mark.browser
ADMIN, PASSWORD = "admin@example.com", "admin browser password"
WIDTHS = [1440, 390]


class Console:
    """The console on a loopback port, and the service behind it."""

    def __init__(self, base_url: str, service: InboxService) -> None:
        self.base_url, self.service = base_url, service

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    options = InboxOptions(admin_email=ADMIN, admin_password=SecretStr(PASSWORD))  # templates unset: the examples
    service = await InboxService.open(tmp_path / "inbox", options, time.time)
    app = web.Application()
    app[SETTINGS] = Settings(data_dir=tmp_path)
    backends: dict[str, object | None] = {"inbox": service}
    app[ADAPTER_BACKENDS] = backends
    mount_web(app, app[SETTINGS])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Console(f"http://127.0.0.1:{runner.addresses[0][1]}", service)
    finally:
        await runner.cleanup()
        await service.store.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as running:
        yield running


async def signed_in(browser: Any, console: Console, width: int, email: str = ADMIN, password: str = PASSWORD) -> Any:
    """A page in a new context whose login cookie belongs to ``email``."""
    page = await new_page(browser, width=width)
    answer = await page.context.request.post(
        console.url("/console/api/login"), data={"email": email, "password": password}
    )
    assert answer.status == 200, await answer.text()
    return page


async def check_section(page: Any, name: str, width: int) -> None:
    """No sideways scroll, no serious or critical axe violation, and a screenshot for the docs."""
    assert await no_sideways_scroll(page), f"{name} scrolls sideways at {width} px"
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    await page.evaluate("document.getElementById('toast').textContent = ''")  # a passing toast is not the screen
    await page.screenshot(path=str(screenshot_dir() / f"admin-{name}-{width}.png"), full_page=True)


async def live_socket_closed(page: Any) -> int:
    """Open a live socket from the page and return the close code the server ends it with."""
    code: int = await page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket(location.origin.replace('http', 'ws') + '/console/api/live');
            ws.onmessage = () => window.__liveOpen = true;
            ws.onclose = (event) => resolve(event.code);
        })"""
    )
    return code


@pytest.mark.parametrize("width", WIDTHS)
async def test_agents_create_sign_in_reset_and_disable(browser: Any, console: Console, width: int) -> None:
    page = await signed_in(browser, console, width)
    await page.goto(console.url("/console/admin"))
    nav = page.get_by_role("navigation", name="Admin sections")
    assert await nav.get_by_role("link", name="Agents").get_attribute("aria-current") == "page"
    form = page.get_by_role("form", name="New agent")
    await form.get_by_label("Name").fill("Bob Stone")
    await form.get_by_label("Email").fill("bob@example.com")
    await form.get_by_label("Password").fill("short")
    await form.get_by_role("button", name="Create agent").click()
    alert = form.get_by_role("alert")
    await alert.get_by_text("password: must be at least").wait_for()
    assert await form.get_by_label("Password").get_attribute("aria-invalid") == "true"
    await form.get_by_label("Password").fill("bob's long password")
    await form.get_by_label("Role").select_option("agent")
    await form.get_by_label("Groups").fill("sales, vip")
    await form.get_by_role("button", name="Create agent").click()
    card = page.get_by_role("list", name="Agents").get_by_role("listitem").filter(has_text="bob@example.com")
    await card.get_by_text("Enabled").wait_for()
    assert await card.get_by_label("Groups of Bob Stone").input_value() == "sales, vip"
    await check_section(page, "agents", width)

    # Bob signs in in a second browser context; his live socket stays open until he is disabled.
    bob = await signed_in(browser, console, width, "bob@example.com", "bob's long password")
    await bob.goto(console.url("/console/admin"))
    await bob.get_by_role("heading", name="Admins only").wait_for()
    closed = asyncio.ensure_future(live_socket_closed(bob))
    await bob.wait_for_function("window.__liveOpen === true")

    await card.get_by_label("Groups of Bob Stone").fill("vip")
    await card.get_by_role("button", name="Save groups").click()
    await page.get_by_role("status").get_by_text("Groups of Bob Stone saved").wait_for()
    assert (await console.service.agents.find("bob@example.com")).groups == ["vip"]  # type: ignore[union-attr]

    await card.get_by_role("button", name="Disable Bob Stone").click()
    await card.get_by_text("Disabled", exact=True).wait_for()
    async with asyncio.timeout(10):
        assert await closed == 4401
    me = await bob.context.request.get(console.url("/console/api/me"))
    assert me.status == 401
    again = await bob.context.request.post(
        console.url("/console/api/login"), data={"email": "bob@example.com", "password": "bob's long password"}
    )
    assert (again.status, (await again.json())["error"]) == (401, "this account is disabled")

    await card.get_by_role("button", name="Enable Bob Stone").click()
    await card.get_by_text("Enabled", exact=True).wait_for()
    await card.get_by_role("button", name="Reset password of Bob Stone").click()
    dialog = page.get_by_role("dialog", name="Reset password of Bob Stone")
    await dialog.get_by_label("New password").fill("bob's newer password")
    await dialog.get_by_role("button", name="Set password").click()
    await dialog.wait_for(state="detached")
    assert (await signed_in(browser, console, width, "bob@example.com", "bob's newer password")) is not None


@pytest.mark.parametrize("width", WIDTHS)
async def test_templates_preview_and_edit(browser: Any, console: Console, width: int) -> None:
    page = await signed_in(browser, console, width)
    await page.goto(console.url("/console/admin/templates"))
    templates = page.get_by_role("list", name="Templates")
    await templates.get_by_role("button", name="Edit /hello").click()
    form = page.get_by_role("form", name="Edit /hello")
    await form.get_by_label("Text").fill("Hi {{contactName}}, {{agentName}} here.")
    preview = form.get_by_role("region", name="Preview")
    await preview.get_by_text("Hi Jane Doe, admin here.").wait_for()
    await check_section(page, "templates", width)
    await form.get_by_role("button", name="Save template").click()
    await templates.get_by_text("Hi {{contactName}}, {{agentName}} here.").wait_for()
    agent_view = await page.context.request.get(console.url("/console/api/templates?contactName=Ann"))
    assert {"shortcut": "hello", "title": "Greeting", "text": "Hi Ann, admin here."} in await agent_view.json()

    new = page.get_by_role("form", name="New template")
    await new.get_by_label("Shortcut").fill("wait")
    await new.get_by_label("Text").fill("Taken")
    await new.get_by_role("button", name="Create template").click()
    await new.get_by_role("alert").get_by_text("shortcut: /wait exists already").wait_for()
    await templates.get_by_role("button", name="Delete /bye").click()
    await templates.get_by_role("button", name="Delete /bye").wait_for(state="detached")
    assert [t.shortcut for t in await console.service.settings.templates()] == ["hello", "wait"]


@pytest.mark.parametrize("width", WIDTHS)
async def test_labels_add_and_remove(browser: Any, console: Console, width: int) -> None:
    page = await signed_in(browser, console, width)
    await page.goto(console.url("/console/admin/labels"))
    form = page.get_by_role("form", name="Add a label")
    await form.get_by_label("New label").fill("refunds")
    await form.get_by_role("button", name="Add label").click()
    labels = page.get_by_role("list", name="Labels")
    await labels.get_by_text("refunds").wait_for()
    await labels.get_by_role("button", name="Remove bug").click()
    await labels.get_by_role("button", name="Remove bug").wait_for(state="detached")
    listed = await (await page.context.request.get(console.url("/console/api/labels"))).json()
    assert listed == ["billing", "feedback", "urgent", "refunds"]
    await check_section(page, "labels", width)


@pytest.mark.parametrize("width", WIDTHS)
async def test_a_shared_view_every_agent_sees(browser: Any, console: Console, width: int) -> None:
    await console.service.team.create("ann@example.com", "ann's long password", name="Ann", role="agent", groups=[])
    page = await signed_in(browser, console, width)
    await page.goto(console.url("/console/admin/views"))
    form = page.get_by_role("form", name="New shared view")
    await form.get_by_label("Name").fill("Waiting billing")
    await form.get_by_label("State").select_option(label="Waiting")
    await form.get_by_label("Label").select_option("billing")
    await form.get_by_role("button", name="Create shared view").click()
    views = page.get_by_role("list", name="Shared views")
    await views.get_by_text("state: Waiting · label: billing").wait_for()
    await check_section(page, "views", width)
    ann = await signed_in(browser, console, width, "ann@example.com", "ann's long password")
    seen = await (await ann.context.request.get(console.url("/console/api/views"))).json()
    assert [(v["name"], v["filters"], v["shared"]) for v in seen] == [
        ("Waiting billing", {"state": "NEEDS_ACTION", "label": "billing"}, True)
    ]
    await views.get_by_role("button", name="Delete Waiting billing").click()
    await views.get_by_text("No shared views yet.").wait_for()


async def test_signed_out_visits_go_to_sign_in_and_back(browser: Any, console: Console) -> None:
    page = await new_page(browser)
    await page.goto(console.url("/console/admin/labels"))
    await page.wait_for_url("**/console/?next=%2Fconsole%2Fadmin%2Flabels")
    await page.get_by_label("Email").fill(ADMIN)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/admin/labels")
    await page.get_by_role("heading", name="Labels", level=1).wait_for()


async def test_an_agent_who_is_not_an_admin_sees_admins_only(browser: Any, console: Console) -> None:
    await console.service.team.create("ann@example.com", "ann's long password", name="Ann", role="agent", groups=[])
    page = await signed_in(browser, console, 390, "ann@example.com", "ann's long password")
    await page.goto(console.url("/console/admin/agents"))
    await page.get_by_role("heading", name="Admins only").wait_for()
    await page.get_by_role("main").get_by_role("link", name="Back to inbox").wait_for()
    assert not await page.get_by_role("navigation", name="Admin sections").is_visible()
    violations = await axe_violations(page)
    assert not violations, describe(violations)
