"""``hitl-bridge serve --workers N``: one supervisor process and N worker processes accepting on one socket.

The supervisor binds the listening socket once and forks the workers, which inherit it and all accept from it.
Why this rather than each worker binding the port with ``SO_REUSEPORT``:

* a busy port or port ``0`` is settled once, before any worker starts (one line on stderr, one port for all);
* the workers share one accept queue: a connection waiting in it when a worker is killed is accepted by another
  worker, where a dead ``SO_REUSEPORT`` socket's own queue would be reset;
* no other process can join the port (``SO_REUSEPORT`` lets any process of the same user bind it too).

The supervisor forwards ``SIGTERM``/``SIGINT`` to the workers (they stop gracefully; a second signal kills them),
restarts a worker that dies, at once after a long run and then with a backoff doubling up to
:data:`MAX_BACKOFF_SECONDS` while it keeps dying young, and logs which worker, which pid and how it ended. The
workers sit in their own process group, so a terminal's Ctrl-C reaches only the supervisor, and each stops by
itself if the supervisor disappears (a kill -9 of the supervisor leaves no orphan serving).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import NoReturn

from .settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 0.1
HEALTHY_SECONDS = 10.0
"""A worker that ran this long before dying is restarted at once; one dying sooner counts as a failure in a row."""
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
STOP_GRACE_SECONDS = 70.0
"""How long stopping workers get before they are killed: aiohttp's own shutdown waits up to 60 s for handlers."""
ORPHAN_CHECK_SECONDS = 1.0

Spawn = Callable[[int], int]
"""Start worker number ``n`` (from 1); return its pid."""


def restart_delay(failures_in_a_row: int) -> float:
    """Seconds to wait before restarting a worker that died young ``failures_in_a_row`` times in a row."""
    if failures_in_a_row <= 0:
        return 0.0
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** (failures_in_a_row - 1))


def describe_exit(status: int) -> str:
    """How a process ended, from its ``waitpid`` status: ``exited with code 1``, ``was killed by SIGKILL``."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with code {code}"
    return f"was killed by {signal.Signals(-code).name}"


@dataclass
class _Slot:
    number: int
    pid: int | None = None
    started_at: float = 0.0
    failures_in_a_row: int = 0
    restart_at: float | None = None


class Supervisor:
    """Keeps ``count`` workers running until SIGTERM or SIGINT, then stops them."""

    def __init__(self, count: int, spawn: Spawn) -> None:
        self._slots = [_Slot(number) for number in range(1, count + 1)]
        self._spawn = spawn
        self._signals: list[int] = []

    def run(self) -> int:
        """Start the workers, keep them running until a stop signal, stop them; the exit code (``0``)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for slot in self._slots:
            self._start(slot)
        while not self._signals:
            self._reap(restart=True)
            self._restart_due()
            time.sleep(POLL_SECONDS)
        self._stop()
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _start(self, slot: _Slot) -> None:
        slot.pid, slot.started_at, slot.restart_at = self._spawn(slot.number), time.monotonic(), None
        log.info("worker %d started (pid %d)", slot.number, slot.pid)

    def _reap(self, *, restart: bool) -> None:
        """Collect every worker that ended; schedule its restart when ``restart``."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self._slots if s.pid == pid), None)
            if slot is not None:
                self._ended(slot, status, restart)

    def _ended(self, slot: _Slot, status: int, restart: bool) -> None:
        how, pid, slot.pid = describe_exit(status), slot.pid, None
        if not restart:
            log.info("worker %d (pid %s) stopped: it %s", slot.number, pid, how)
            return
        young = time.monotonic() - slot.started_at < HEALTHY_SECONDS
        slot.failures_in_a_row = slot.failures_in_a_row + 1 if young else 0
        delay = restart_delay(slot.failures_in_a_row)
        slot.restart_at = time.monotonic() + delay
        log.warning("worker %d (pid %s) %s; restarting it in %.1f s", slot.number, pid, how, delay)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.pid is None and slot.restart_at is not None and slot.restart_at <= now:
                self._start(slot)

    def _stop(self) -> None:
        """Forward the stop signal, give the workers :data:`STOP_GRACE_SECONDS`, then kill what is left."""
        self._signal_workers(self._signals[0])
        log.info("stopping %d workers (%s)", len(self._running()), signal.Signals(self._signals[0]).name)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self._running() and time.monotonic() < deadline and len(self._signals) == 1:
            self._reap(restart=False)
            time.sleep(POLL_SECONDS)
        if self._running():
            log.warning("killing %d workers that did not stop", len(self._running()))
            self._signal_workers(signal.SIGKILL)
            while self._running():
                self._reap(restart=False)
                time.sleep(POLL_SECONDS)

    def _running(self) -> list[_Slot]:
        return [slot for slot in self._slots if slot.pid is not None]

    def _signal_workers(self, signum: int) -> None:
        for slot in self._running():
            assert slot.pid is not None
            with contextlib.suppress(ProcessLookupError):  # it ended and is not reaped yet
                os.kill(slot.pid, signum)


def supervise(settings: Settings, sock: socket.socket, run_worker: Callable[[int], None]) -> int:
    """Run ``settings.workers`` forked workers, each calling ``run_worker(supervisor_pid)``; see the module doc."""
    supervisor_pid = os.getpid()

    def spawn(number: int) -> int:
        pid = os.fork()
        if pid == 0:
            _be_worker(number, lambda: run_worker(supervisor_pid))
        return pid

    return Supervisor(settings.workers, spawn).run()


def _be_worker(number: int, run: Callable[[], None]) -> NoReturn:
    """The forked child: its own process group and default signal handlers, then serve; never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        run()
        code = 0
    except BaseException:
        log.exception("worker %d failed", number)
    finally:
        logging.shutdown()
        os._exit(code)  # never run the supervisor's cleanup (atexit, finally blocks) in a worker


def orphan_watch(supervisor_pid: int) -> Callable[[object], AsyncIterator[None]]:
    """A cleanup context for a worker's app: it stops gracefully (SIGTERM to itself) once the supervisor is gone."""

    async def watching(app: object) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch(supervisor_pid))
        yield
        task.cancel()

    return watching


async def _watch(supervisor_pid: int) -> None:
    # Polled: no event tells a process that its parent died (PR_SET_PDEATHSIG is Linux-only and per thread).
    while os.getppid() == supervisor_pid:  # noqa: ASYNC110
        await asyncio.sleep(ORPHAN_CHECK_SECONDS)
    log.warning("the supervisor (pid %d) is gone: this worker stops", supervisor_pid)
    os.kill(os.getpid(), signal.SIGTERM)
