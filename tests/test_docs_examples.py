"""Every code example in the docs runs: files in docs/examples are executed (pytest files with
pytest), and every ```python block in docs/*.md is an exact copy of one of them or at least runs.

Pages show examples inline, after a ``<!-- example: docs/examples/NAME.py -->`` line, so that they
read the same on a code host as on the docs site. ``python tests/test_docs_examples.py`` copies
each example file into the pages that name it."""

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
EXAMPLE = re.compile(
    r"<!-- example: (docs/examples/[\w.]+\.py) -->\n```python\n(.*?)```", re.DOTALL
)
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def sync_examples() -> list[str]:
    """Rewrite each page's inline copies from docs/examples; returns the pages it changed."""
    changed = []
    for page in PAGES:
        text = page.read_text()
        synced = EXAMPLE.sub(
            lambda m: f"<!-- example: {m[1]} -->\n```python\n{(ROOT / m[1]).read_text()}```", text
        )
        if synced != text:
            page.write_text(synced)
            changed.append(page.name)
    return changed


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
    executed = included = 0
    for page in PAGES:
        text = page.read_text()
        copies = {m[2] for m in EXAMPLE.finditer(text)}
        for block in BLOCK.findall(text):
            if block in copies:  # checked against its file by test_inline_examples_match_files
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


def test_inline_examples_match_files() -> None:
    """Each inline copy is byte for byte the example file that the tests execute."""
    shown = set()
    for page in PAGES:
        for match in EXAMPLE.finditer(page.read_text()):
            path = ROOT / match[1]
            assert path.is_file(), (page.name, match[1])
            assert match[2] == path.read_text(), (
                f"{page.name} shows an outdated copy of {match[1]}: "
                "run `python tests/test_docs_examples.py` to copy the file into the page"
            )
            shown.add(path.name)
    # Every example file appears on some page.
    assert shown >= {p.name for p in EXAMPLES}, sorted({p.name for p in EXAMPLES} - shown)


def test_pages_read_on_a_code_host_have_no_snippet_markers() -> None:
    """``--8<--`` includes show up as literal text on a code host: pages carry copies instead."""
    marker = "--8<" + "--"
    for page in [*PAGES, *(ROOT / name for name in ("CONTRIBUTING.md", "CHANGELOG.md"))]:
        assert marker not in page.read_text(), page.name


def test_readme_links_work_on_a_package_index() -> None:
    """The README is also the package page, where links relative to the repository break."""
    links = re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    assert links
    relative = [link for link in links if not link.startswith(("https://", "#"))]
    assert not relative, relative


if __name__ == "__main__":
    print("updated:", ", ".join(sync_examples()) or "nothing")
