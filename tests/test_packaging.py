"""The package as released: `python -m build` and `twine check` pass, the licence travels in both
archives, and the sdist carries what is needed to test it from the archive."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# `make test` in an unpacked sdist needs these (beside the package itself).
SDIST_MUST_CARRY = [
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "Makefile",
    "mkdocs.yml",
    "pyproject.toml",
    "tests/conftest.py",
    "tests/test_packaging.py",
    "tests/data/clerk/jwks.json",
    "tests/data/clerk/README.md",
    "tests/data/wycheproof/json_web_signature_test.json",
    "tests/data/wycheproof/LICENSE",
    "docs/index.md",
    "docs/examples/quickstart.py",
    "example_app/__main__.py",
    "bench/__main__.py",
    "clerk_fastapi/__init__.py",
    "clerk_fastapi/py.typed",
]


def _run(*command: str, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_build_twine_check_and_archive_contents(tmp_path: Path) -> None:
    # --no-isolation: the build backend comes from the dev extra, so no download is needed.
    _run(
        sys.executable,
        "-m",
        "build",
        "--no-isolation",
        "--outdir",
        str(tmp_path),
        str(ROOT),
        cwd=tmp_path,
    )
    (sdist,) = tmp_path.glob("clerk_fastapi-*.tar.gz")
    (wheel,) = tmp_path.glob("clerk_fastapi-*-py3-none-any.whl")
    checked = _run(
        sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel), cwd=tmp_path
    )
    assert checked.count("PASSED") == 2, checked

    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    missing = [name for name in SDIST_MUST_CARRY if name not in names]
    assert not missing, f"not in the sdist: {missing}"
    assert any(name.startswith("tests/corpus/") for name in names)
    assert not any(name.startswith((".venv", "site/", "dist/")) for name in names)
    assert not any("__pycache__" in name for name in names)

    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
        (metadata_name,) = [n for n in wheel_names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_string(archive.read(metadata_name).decode())
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel_names), wheel_names
    assert "clerk_fastapi/py.typed" in wheel_names
    assert not any(n.startswith(("tests/", "docs/", "example_app/")) for n in wheel_names)

    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert "Development Status :: 3 - Alpha" in classifiers
    assert "Framework :: Pytest" in classifiers
    assert metadata["Requires-Python"] == ">=3.10"
    # The long description is the README, which must render on a package index (no links into
    # the repository that only resolve on a code host).
    description = metadata.get_payload()
    assert isinstance(description, str) and description.startswith("# clerk-fastapi")
    links = re.findall(r"\]\(([^)\s]+)\)", description)
    assert links and all(link.startswith(("https://", "#")) for link in links), links


def test_license_is_mit_for_the_developers() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 clerk-fastapi developers" in text
