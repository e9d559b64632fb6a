"""Files in the fake Slack: an upload URL on the fake, the upload, the share as a thread message, and the bytes.

Slack's external upload is three steps (``files.getUploadURLExternal``, a POST of the bytes to the returned
``upload_url``, ``files.completeUploadExternal``); a file is shared only by the last one. A shared file's
``url_private`` is served by the fake only with ``Authorization: Bearer <bot token>``, as Slack's file hosts do.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from .workspace import BOT_ID, BOT_USER_ID, Channel, SlackError, Workspace

MAX_FILE_BYTES = 1024 * 1024 * 1024


def upload_ticket(workspace: Workspace, filename: str, length: int, base_url: str) -> dict[str, Any]:
    """Reserve a file id and the URL its bytes go to."""
    if not 0 < length <= MAX_FILE_BYTES:
        raise SlackError("invalid_arguments")
    file_id = f"F{len(workspace.files) + 1:08d}"
    workspace.files[file_id] = {"id": file_id, "name": filename, "length": length, "shared": False}
    return {"upload_url": f"{base_url}/upload/{file_id}", "file_id": file_id}


def receive_upload(workspace: Workspace, file_id: str, content: bytes, content_type: str | None) -> None:
    """Keep the bytes POSTed to an upload URL (again: replaced, as the same upload repeated)."""
    entry = workspace.files.get(file_id)
    if entry is None or entry["shared"]:
        raise SlackError("file_not_found")
    workspace.file_bytes[file_id] = content
    guessed = mimetypes.guess_type(entry["name"])[0]
    entry["mimetype"] = guessed or (content_type or "application/octet-stream").split(";")[0]


def complete_upload(
    workspace: Workspace,
    channel: Channel,
    files: list[dict[str, Any]],
    thread_ts: str | None,
    initial_comment: str | None,
    *,
    user_id: str = BOT_USER_ID,
) -> list[dict[str, Any]]:
    """Share uploaded files as one message of ``channel`` (in ``thread_ts``'s thread), by ``user_id``."""
    shared = [_share(workspace, item) for item in files]
    message: dict[str, Any] = {"text": initial_comment or "", "files": shared, "user": user_id, "upload": True}
    if user_id == BOT_USER_ID:
        message["bot_id"] = BOT_ID
    if thread_ts:
        message["thread_ts"] = thread_ts
    stored = workspace.add_message(channel, message)
    share = {"ts": stored["ts"], **({"thread_ts": thread_ts} if thread_ts else {})}
    for item in shared:
        item["shares"] = {"private" if channel.is_private else "public": {channel.id: [share]}}
    return [dict(item) for item in shared]


def share_ts(shared_file: dict[str, Any], channel: Channel) -> str:
    """The ``ts`` of the message that shared a file in ``channel``."""
    visibility = "private" if channel.is_private else "public"
    return str(shared_file["shares"][visibility][channel.id][0]["ts"])


def add_agent_file(workspace: Workspace, name: str, content: bytes) -> str:
    """A file a person uploads from Slack's UI: reserved and received in one step; its id."""
    file_id = str(upload_ticket(workspace, name, max(1, len(content)), workspace.files_base_url)["file_id"])
    receive_upload(workspace, file_id, content, None)
    return file_id


def file_content(workspace: Workspace, file_id: str) -> tuple[bytes, str]:
    """The bytes and MIME type of a shared file."""
    entry = workspace.files.get(file_id)
    if entry is None or not entry["shared"]:
        raise SlackError("file_not_found")
    return workspace.file_bytes[file_id], str(entry["mimetype"])


def _share(workspace: Workspace, item: dict[str, Any]) -> dict[str, Any]:
    entry = workspace.files.get(str(item["id"]))
    if entry is None or entry["shared"] or item["id"] not in workspace.file_bytes:
        raise SlackError("file_not_found")  # never reserved, never uploaded, or shared already
    entry["shared"] = True
    entry["title"] = item.get("title") or entry["name"]
    entry["size"] = len(workspace.file_bytes[entry["id"]])
    url = f"{workspace.files_base_url}/files/{entry['id']}/{entry['name']}"
    public = {k: entry[k] for k in ("id", "name", "title", "mimetype", "size")}
    return {**public, "filetype": entry["name"].rsplit(".", 1)[-1], "url_private": url, "url_private_download": url}
