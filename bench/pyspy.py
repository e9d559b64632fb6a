"""py-spy's raw stacks of a server process while a block of a benchmark runs (``pip install py-spy``)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def recording(pid: int, output: Path | None, *, gil: bool = False) -> Iterator[None]:
    """Sample ``pid`` at 200 Hz into ``output`` (py-spy's raw collapsed stacks) while the block runs.

    Nothing is recorded when ``output`` is ``None``. ``gil``: only the thread holding the GIL is sampled, so idle
    threads do not count.

    Raises:
        SystemExit: py-spy is not installed (a profile was asked for: better no run than one without it).
    """
    if output is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("profiling needs py-spy: pip install py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--pid", str(pid), *(["--gil"] if gil else []), "--format", "raw", "--rate", "200"]
    recorder = subprocess.Popen([*command, "-o", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait(timeout=10)
