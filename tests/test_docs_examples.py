"""Every code example in the docs runs: files in docs/examples are executed (pytest files with
pytest), and every ```python block in docs/*.md is a snippet include or at least compiles."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
INCLUDE = re.compile(r'^--8<-- "(docs/examples/[\w.]+\.py)"$')


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    env["PYTHONPATH"] = str(ROOT / "docs" / "examples")
    return env


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    if path.name.startswith("mcp_"):
        # The MCP examples need the extra clerk-fastapi[mcp] (installed by `make test`).
        pytest.importorskip("mcp")
        pytest.importorskip("fastmcp")
    if path.name.startswith("test_"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    else:
        command = [sys.executable, str(path)]
    result = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


PRELUDE = """
from typing import Annotated, Any
from fastapi import Depends, FastAPI, Security
from clerk_fastapi import *
from clerk_fastapi.testing import FakeClerk, override_auth
fake = FakeClerk()
clerk = fake.clerk()
app = FastAPI()
"""


def test_every_python_block_in_the_docs_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks that are not included from docs/examples are executed against a small prelude
    (the names a page has introduced: ``app``, ``clerk``, ``fake`` and the public API)."""
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_docs_example_0123456789")
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    executed = included = 0
    for page in pages:
        for block in BLOCK.findall(page.read_text()):
            include = INCLUDE.match(block.strip())
            if include:
                assert (ROOT / include.group(1)).is_file(), (page.name, include.group(1))
                included += 1
                continue
            namespace: dict[str, object] = {}
            exec(compile(PRELUDE, "prelude", "exec"), namespace)
            try:
                exec(compile(block, f"{page.name}:block", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{page.name}: {exc!r}\n{block}") from exc
            executed += 1
    assert executed > 5 and included > 5
