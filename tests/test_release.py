"""The release habit: the package's version is the newest dated section of CHANGELOG.md (semantic
versioning), work in progress sits under "Unreleased", and every version has a date and a link."""

from __future__ import annotations

import re
from pathlib import Path

from clerk_fastapi import __version__

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"


def test_the_changelog_opens_with_unreleased_then_the_current_version() -> None:
    headings = re.findall(r"^## (.+)$", CHANGELOG, re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    versions = [
        re.fullmatch(rf"\[({SEMVER})\] - (\d{{4}}-\d{{2}}-\d{{2}})", h) for h in headings[1:]
    ]
    assert all(versions), headings  # every released section is dated
    numbers = [m[1] for m in versions if m]
    assert numbers[0] == __version__  # the package is the newest released version
    as_tuples = [tuple(int(part) for part in n.split("-")[0].split(".")) for n in numbers]
    assert as_tuples == sorted(as_tuples, reverse=True)
    dates = [m[2] for m in versions if m]
    assert dates == sorted(dates, reverse=True)
    for number in ["Unreleased", *numbers]:
        assert re.search(rf"^\[{re.escape(number)}\]: https://", CHANGELOG, re.MULTILINE), number


def test_make_release_check_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile.split("\nrelease-check:", 1)[1].split("\n\n", 1)[0]
    assert "twine check --strict" in rule
    assert "venv" in rule and "import clerk_fastapi" in rule
