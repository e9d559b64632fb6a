"""How many Slack calls each operation makes on its normal path (no lost answer, no crash): pinned, so that a
change that adds one says why. The look-ups (conversations.history / replies) happen only after an unknown outcome."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bp_modules.hitl import HitlText, parse_hitl_payload
from tests.adapter_kit import MEDIA_URL
from tests.contracts.slack import SlackMockRouter

from .fake_slack import FakeSlack
from .harness import Build
from .test_open import WEBHOOK_URL, open_request
from .test_outbound import outbound


def counted(router: SlackMockRouter, since: int) -> Counter[str]:
    return Counter(call.request.url.path.rsplit("/", 1)[-1] for call in list(router.calls)[since:])


async def test_each_operation_makes_its_pinned_calls(
    build: Build, fake_slack: FakeSlack, slack_api: SlackMockRouter, media_host: Any
) -> None:
    adapter = build().adapter
    await adapter.subscribe(WEBHOOK_URL)
    assert counted(slack_api, 0) == {"auth.test": 1, "conversations.info": 1}

    mark = slack_api.calls.call_count
    session_id = await adapter.open_session(open_request(new_key=True))
    # The parent, then its edit adding the buttons (they carry the session id, known once the parent has its ts).
    assert counted(slack_api, mark) == {"chat.postMessage": 1, "chat.update": 1}

    mark = slack_api.calls.call_count
    await adapter.send_message(outbound(session_id, HitlText(text="hi"), "m1"))
    assert counted(slack_api, mark) == {"chat.postMessage": 1}

    mark = slack_api.calls.call_count
    await adapter.send_message(
        outbound(session_id, parse_hitl_payload("image", {"imageUrl": f"{MEDIA_URL}/cat.png"}), "m2")
    )
    assert counted(slack_api, mark) == {
        "cat.png": 1,
        "files.getUploadURLExternal": 1,
        "F00000001": 1,
        "files.completeUploadExternal": 1,
    }

    mark = slack_api.calls.call_count
    await adapter.close_session(session_id)
    assert counted(slack_api, mark) == {"chat.postMessage": 1, "chat.update": 1}
