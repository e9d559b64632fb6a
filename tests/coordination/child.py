"""Another process on the same backend, for the tests: ``python -m tests.coordination.child COMMAND KEY``.

The backend comes from the environment: ``CHILD_DATABASE_URL`` (PostgreSQL) or else ``CHILD_DATA_DIR`` (embedded).
It prints one line when it got where it was asked to go, then waits for a line on standard input (or a kill -9).
Commands: ``intent`` writes an intent for KEY; ``memo`` sets the memo entry KEY to ``kept``; ``lock`` holds the lock
of KEY, and writes the file ``CHILD_MARKER`` just before it lets it go; ``open`` only opens the backend.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from pydantic import SecretStr

from coordination import BackendInUseError, open_backend


async def main(command: str, key: str) -> int:
    url = os.environ.get("CHILD_DATABASE_URL")
    data_dir = Path(os.environ.get("CHILD_DATA_DIR", "."))
    try:
        async with open_backend(data_dir, SecretStr(url) if url else None) as backend:
            coordinator = backend.coordinator
            if command == "intent":
                entry = await coordinator.intent(key)
                _say(f"intent {entry.state} {entry.attempts}")
                await _wait_for_stdin()
            elif command == "memo":
                await coordinator.memo_set(key, "kept", 3600)
                _say("memo set")
                await _wait_for_stdin()
            elif command == "lock":
                async with coordinator.lock(key):
                    _say("locked")
                    await _wait_for_stdin()
                    await asyncio.to_thread(Path(os.environ["CHILD_MARKER"]).write_text, "released")
            else:
                _say("open")
                await _wait_for_stdin()
    except BackendInUseError as exc:
        _say(f"refused: {exc}")
        return 2
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


async def _wait_for_stdin() -> None:
    await asyncio.to_thread(sys.stdin.readline)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")))
