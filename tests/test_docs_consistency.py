"""Small facts the docs state in more than one place agree with each other and with the repo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_contributing_and_readme_name_the_same_list_of_deviations() -> None:
    readme = (ROOT / "README.md").read_text()
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    section = contributing.split("## How parity with Clerk is checked", 1)[1].split("\n## ", 1)[0]
    assert "docs/parity.md" in readme
    assert "docs/parity.md" in section
    assert "docs/security.md" not in section


def test_pyproject_comments_name_files_that_exist() -> None:
    comments = [
        line.split("#", 1)[1]
        for line in (ROOT / "pyproject.toml").read_text().splitlines()
        if line.lstrip().startswith("#")
    ]
    named = {
        name
        for comment in comments
        for name in re.findall(r"[\w./-]+\.(?:md|py|toml|yml|txt)\b", comment)
    }
    assert named, "no file named in pyproject.toml comments?"
    assert {n for n in named if not (ROOT / n).exists()} == set()
    assert not any("issue:" in comment for comment in comments)


def test_contributing_documents_each_section_pyproject_points_to() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    for section in re.findall(r'CONTRIBUTING\.md, "([^"]+)"', pyproject):
        assert f"## {section}" in contributing, section
