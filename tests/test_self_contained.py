"""A clone on its own passes `make test`: nothing the suite runs reads data from beside the clone.

The test data lives in tests/data with its licences (see the READMEs there); `make test-clone`
(run by .ci/run) proves the whole thing by cloning into an empty temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

# What reading a sibling directory of the clone looks like in our sources: a relative path that
# climbs out of the repository, or a pathlib expression that names a directory beside the root.
# (Spelled with a character class so that this file does not match itself.)
_SIBLING = "shar[e]d|fixture[s]|vector[s]"
FORBIDDEN = [
    re.compile(r"\.\./(" + _SIBLING + ")"),
    re.compile(r"parents?(\[\d+\])?(\.parent)*\s*/\s*[\"'](" + _SIBLING + ")[\"']"),
]


def _sources() -> list[Path]:
    files = [ROOT / "Makefile", ROOT / ".ci" / "run", ROOT / "pyproject.toml"]
    for folder in ("tests", "scripts", "bench", "example_app"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".sh", ""}]
    files += list((ROOT / "parity").glob("*.py"))
    return [p for p in files if p.is_file() and ".venv" not in p.parts and "data" not in p.parts]


def test_no_source_reads_beside_the_clone() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(pattern.search(line) for pattern in FORBIDDEN)
    ]
    assert not offenders, "these lines read data from beside the clone:\n" + "\n".join(offenders)


def test_the_fixture_paths_point_into_the_repository() -> None:
    from clerk_fixtures import FIXTURES, VECTORS

    for folder in (FIXTURES, VECTORS):
        assert folder.is_dir(), folder
        assert ROOT in folder.resolve().parents, folder


def test_every_data_file_is_used_and_licensed() -> None:
    # Only what the tests read is copied, and each folder says where it came from and its licence.
    test_text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    for folder in (DATA / "clerk", DATA / "wycheproof"):
        readme = (folder / "README.md").read_text()
        assert re.search(r"licen[cs]e", readme, re.IGNORECASE), folder
        for data_file in folder.glob("*.json"):
            assert f'"{data_file.name}"' in test_text, f"{data_file.name} is copied but unused"
            assert f"`{data_file.name}`" in readme, f"{data_file.name} is not described"
    assert "Apache License" in (DATA / "wycheproof" / "LICENSE").read_text()
