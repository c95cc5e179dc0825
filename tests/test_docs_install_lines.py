"""Every install line in the docs is one that works: clerk-fastapi is not on PyPI yet, so a line
must name the repository (the README's working line) or a local clone/wheel, and only extras
that pyproject.toml defines. (When the first release is on PyPI, allow the plain name here.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
# Read with re: tomllib is 3.11+ and the suite runs on 3.10 too.
PYPROJECT = (ROOT / "pyproject.toml").read_text()
SOURCE = re.search(r'^Homepage = "([^"]+)"', PYPROJECT, re.MULTILINE)[1]  # type: ignore[index]
_OPTIONAL = PYPROJECT.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
EXTRAS = set(re.findall(r"^([\w-]+) = \[", _OPTIONAL, re.MULTILINE))
NAMED = re.compile(r"clerk[-_]fastapi(?:\[([\w,-]+)\])?(?:\s*@\s*(\S+))?$")
LOCAL = re.compile(r"(?:\.|dist/\*\.whl)(?:\[([\w,-]+)\])?$")


def _install_lines() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        spans = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.DOTALL)
        spans += re.findall(r"`([^`\n]*pip install[^`\n]*)`", text)
        for span in spans:
            for line in span.splitlines():
                line = line.split("#", 1)[0].strip()
                if "pip install" in line:
                    found.append((page.name, line[line.index("pip install") :]))
    examples = ROOT / "docs" / "examples"
    for path in examples.glob("*.py"):
        for line in path.read_text().splitlines():
            if "pip install" in line:
                found.append((path.name, line[line.index("pip install") :].strip("`\"' ")))
    return found


def _check(argument: str) -> str | None:
    named = NAMED.match(argument)
    local = LOCAL.match(argument)
    extras = named[1] if named else local[1] if local else None
    if named:
        if named[2] is None:
            return "names the package on PyPI, where it is not yet: use the repository"
        if named[2] != f"git+{SOURCE}":
            return f"installs from {named[2]}, not git+{SOURCE}"
    if extras and set(extras.split(",")) - EXTRAS:
        return f"names extras pyproject.toml does not define: {set(extras.split(',')) - EXTRAS}"
    return None


def test_every_install_line_names_a_source_that_exists() -> None:
    lines = _install_lines()
    assert any("git+" in line for _, line in lines)
    problems = []
    for page, line in lines:
        words = shlex.split(line.replace("&&", " && "))
        for argument in words[2:]:
            if argument in ("&&",) or argument.startswith("-"):
                continue
            problem = _check(argument)
            if problem is not None:
                problems.append(f"{page}: {line!r} {problem}")
    assert problems == []


def test_the_check_refuses_what_failed_before() -> None:
    assert _check("clerk-fastapi") is not None
    assert _check("clerk-fastapi[mcp]") is not None
    assert _check(f"clerk-fastapi[nope] @ git+{SOURCE}") is not None
    assert _check(f"clerk-fastapi[redis] @ git+{SOURCE}") is None
    assert _check(".[dev,mcp]") is None
