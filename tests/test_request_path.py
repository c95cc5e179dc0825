"""The request path stays short: the package's calls on one request, counted by a runtime trace
(``scripts/request_path.py``), against the counts before issue 23 (commit c11f0ac)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "request_path.py"

# (calls, modules, returns to a module already left) at c11f0ac, by the same script.
BEFORE = {
    "Depends(Auth()), new token": (68, 21, 11),
    "Clerk.authenticate_request, new token": (69, 19, 15),
    "Depends(Auth()), token in steady use": (12, 8, 1),
}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("request_path", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_path_passes_fewer_modules_and_returns_to_fewer_than_before(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The path with nobody listening (a debug log or a hook adds the event's calls).
    caplog.set_level(logging.WARNING, logger="clerk_fastapi")
    script = _script()
    measured = {label: script.counts(calls) for label, calls in script.measure().items()}
    assert set(measured) == set(BEFORE)
    for label, (calls, modules, returns) in measured.items():
        before_calls, before_modules, before_returns = BEFORE[label]
        assert calls <= before_calls, (label, measured[label])
        assert modules < before_modules, (label, measured[label])
        assert returns < before_returns, (label, measured[label])


def test_a_token_in_steady_use_never_reaches_the_pipeline_or_a_verifier(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="clerk_fastapi")
    steady = _script().measure()["Depends(Auth()), token in steady use"]
    modules = {module for module, _ in steady}
    assert not modules & {"auth/pipeline.py", "kinds/registry.py", "kinds/session.py"}, modules
