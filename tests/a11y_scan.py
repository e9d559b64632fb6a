"""Accessibility scans in the browser tests: axe-core (npm, pinned in ``tests/a11y/package-lock.json``).

The script is injected from the local file ``tests/a11y/node_modules/axe-core/axe.min.js`` (``npm ci --prefix
tests/a11y``, which ``.ci/run`` runs), never from a CDN. A missing file skips the scan on a developer's machine
and fails it in CI, like the browser itself (``tests/browser.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import in_ci

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")


def require_axe() -> Path:
    """The path of axe.min.js; otherwise skip, or fail in CI."""
    if AXE.exists():
        return AXE
    problem = f"axe-core is not installed at {AXE} (npm ci --prefix tests/a11y)"
    if in_ci():
        pytest.fail(f"{problem}; CI must run the accessibility scans", pytrace=False)
    pytest.skip(problem)


async def axe_violations(page: Any, *, include: str | None = None) -> list[dict[str, Any]]:
    """The serious and critical axe violations of ``page`` (or of the elements ``include`` selects)."""
    await page.add_script_tag(path=str(require_axe()))
    results: dict[str, Any] = await page.evaluate(
        "async (include) => await axe.run(include ? {include: [include]} : document, {resultTypes: ['violations']})",
        include,
    )
    return [v for v in results["violations"] if v.get("impact") in SEVERE]


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations in words, for an assertion message: rule, impact, and the first nodes' selectors."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in violations
    )
