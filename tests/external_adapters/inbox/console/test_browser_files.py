"""Files both ways: the end user's image shows as a thumbnail linking to it and their file as a link with its
name; the agent's Attach uploads a file that reaches the end user as a real image message."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.browser import new_page

from .browser_app import ConsoleServer, eventually, sign_in

pytestmark = pytest.mark.browser
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def _claimed(server: ConsoleServer, page: Any) -> tuple[str, str]:
    await sign_in(page, server.base_url + "/console")
    bp_conversation_id, session_id = await server.handoff("Jane Doe", "I will send you the invoice")
    await page.goto(server.base_url + f"/console/sessions/{session_id}")
    await page.get_by_role("button", name="Claim").first.click()
    await page.get_by_role("button", name="Resolve").wait_for()
    return bp_conversation_id, session_id


async def test_the_end_users_image_and_file_show_as_image_and_link(console_server: ConsoleServer, browser: Any) -> None:
    page = await new_page(browser)
    bp_conversation_id, session_id = await _claimed(console_server, page)
    image_url, file_url = "https://files.example.com/photo.png", "https://files.example.com/invoice-42.pdf"
    await console_server.user_says(bp_conversation_id, session_id, "image", {"imageUrl": image_url})
    await console_server.user_says(
        bp_conversation_id, session_id, "file", {"fileUrl": file_url, "title": "invoice-42.pdf"}
    )
    log = page.get_by_role("log")
    image = log.get_by_role("img")
    await image.wait_for()
    assert await image.get_attribute("src") == image_url
    assert await image.get_attribute("alt")
    assert await log.locator("a:has(img)").get_attribute("href") == image_url
    file_link = log.get_by_role("link", name="invoice-42.pdf")
    assert await file_link.get_attribute("href") == file_url
    assert "[image]" not in await log.inner_text()


async def test_an_agent_attaches_an_image_that_reaches_the_end_user(
    console_server: ConsoleServer, browser: Any
) -> None:
    page = await new_page(browser)
    bp_conversation_id, _ = await _claimed(console_server, page)
    await page.get_by_label("Attach a file").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    log = page.get_by_role("log")
    await log.locator(".msg.agent img").wait_for()

    def sent_images() -> list[str]:
        messages = console_server.botpress.messages_in(bp_conversation_id)
        return [m["payload"]["imageUrl"] for m in messages if m["type"] == "image"]

    await eventually(lambda: bool(sent_images()), "the image message")
    async with console_server.http.get(sent_images()[0]) as response:
        assert response.status == 200
        assert await response.read() == PNG
        assert response.headers["Content-Type"] == "image/png"
