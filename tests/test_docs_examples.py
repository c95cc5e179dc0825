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
    if path.name.startswith("test_"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    elif path.name == "testing_app.py":
        command = [sys.executable, "-c", "import testing_app"]
    else:
        command = [sys.executable, str(path)]
    result = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_every_python_block_in_the_docs_is_real() -> None:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    checked = 0
    for page in pages:
        for block in BLOCK.findall(page.read_text()):
            include = INCLUDE.match(block.strip())
            if include:
                assert (ROOT / include.group(1)).is_file(), (page.name, include.group(1))
            else:
                compile(block, f"{page.name}:block", "exec")
            checked += 1
    assert checked > 0
