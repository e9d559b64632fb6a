"""``serve --workers N``: what is refused before anything starts, and the supervisor's restart policy.

The processes themselves (three workers on one port, a killed one restarted, SIGTERM stopping all) are driven for
real in ``tests/e2e/test_serve_workers.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from integration.settings import Settings
from integration.supervisor import MAX_BACKOFF_SECONDS, describe_exit, restart_delay

SCRIPT = Path(sys.executable).parent / "hitl-bridge"
PG_URL = "postgresql://hitl:s3cr3t-pw@db.internal:5432/bridge"
SERVING_BOTPRESS = {"BP_TOKEN": "bp_pat_secret", "HITL_BRIDGE_INSECURE": "true"}


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HITL_BRIDGE_", "BP_"))}
    clean |= {"HITL_BRIDGE_PORT": "0", "HITL_BRIDGE_DATA_DIR": str(tmp_path), **env}
    argv = [str(SCRIPT), "serve", *args]
    return subprocess.run(argv, env=clean, capture_output=True, text=True, timeout=60, check=False)


def test_several_workers_on_the_embedded_store_are_refused_before_anything_starts(tmp_path: Path) -> None:
    done = _serve(tmp_path, "--workers", "3", **SERVING_BOTPRESS)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "--workers 3" in line and "HITL_BRIDGE_DATABASE_URL" in line and "one process" in line
    assert list(tmp_path.iterdir()) == []  # nothing was created: no store was opened


def test_the_environment_variable_is_refused_the_same_way(tmp_path: Path) -> None:
    done = _serve(tmp_path, HITL_BRIDGE_WORKERS="2", **SERVING_BOTPRESS)
    assert done.returncode == 2 and "--workers 2" in done.stderr and "HITL_BRIDGE_DATABASE_URL" in done.stderr


def test_the_sandbox_with_several_workers_is_refused_even_on_postgresql(tmp_path: Path) -> None:
    done = _serve(tmp_path, "--workers", "2", HITL_BRIDGE_DATABASE_URL=PG_URL)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "sandbox" in line and "one process" in line and "s3cr3t-pw" not in line


def test_one_worker_needs_no_database_and_several_need_one() -> None:
    assert Settings(workers=1).start_problem() is None
    token = SecretStr("bp_pat_secret")
    assert Settings(workers=4, bp_token=token, insecure=True).start_problem() is not None
    assert Settings(workers=4, database_url=SecretStr(PG_URL), bp_token=token, insecure=True).start_problem() is None


def test_the_database_url_is_a_secret() -> None:
    settings = Settings(database_url=SecretStr(PG_URL))
    assert "s3cr3t-pw" not in repr(settings) and "s3cr3t-pw" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("failures", "delay"), [(0, 0.0), (1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, MAX_BACKOFF_SECONDS), (50, 30.0)]
)
def test_a_worker_dying_young_again_and_again_waits_longer_up_to_a_bound(failures: int, delay: float) -> None:
    assert restart_delay(failures) == delay


def test_how_a_worker_ended_is_told_in_words() -> None:
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(3 << 8) == "exited with code 3"
    assert describe_exit(signal.SIGKILL) == "was killed by SIGKILL"
