"""The project's own soak, short form (issue 25, item 6): tests/soak/run.py under pytest.

Part of the default test run (``make test``, so ``.ci/run``): about 30 s of mixed load over every
phase. ``make soak`` runs it for CLERK_SOAK_SECONDS (600: ten minutes) and prints the per-phase
figures; CLERK_SOAK_SCREENSHOT=path.png also renders the workers' OpenTelemetry figures.
"""

from __future__ import annotations

import os
import shutil

import pytest
from redis_support import require_redis_server
from soak.run import run

SECONDS = float(os.environ.get("CLERK_SOAK_SECONDS") or 30)


def test_soak() -> None:
    require_redis_server()
    if os.environ.get("CLERK_SOAK_SCREENSHOT") and shutil.which("chromium") is None:
        pytest.skip("chromium is needed for the screenshot")
    text, wrong, soak = run(SECONDS)
    print("\n" + text)
    assert not wrong, "\n".join(wrong[:40])
    # Each phase did what it is there for (else the run proves nothing).
    by_phase = {s.phase for s in soak.samples}
    assert {"healthy", "clerk_500", "clerk_hang", "rotation", "redis_down", "final"} <= by_phase
    assert any(s.status == 503 for s in soak.samples if s.phase == "clerk_hang")
    assert any(s.status == 200 for s in soak.samples if s.category == "rotated")
    revoked = soak.timeline.revoked_at
    assert any(s.status == 401 and s.token in revoked for s in soak.samples)
    assert "worker_replaced_s" in soak.recovery
