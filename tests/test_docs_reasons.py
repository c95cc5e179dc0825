"""The reason codes agree everywhere: ``clerk_fastapi.Reason``, the tables of docs/errors.md, the
reasons docs/troubleshooting.md names, and the reason strings in the package's code."""

from __future__ import annotations

import re
from pathlib import Path

from clerk_fastapi import Reason

ROOT = Path(__file__).resolve().parents[1]
# Clerk's reason codes look like these (plus its one ad-hoc sentence, "No token in header").
CODE = re.compile(
    r"(?:token|session|jwk|client-uat|secret-key|unexpected|invalid|origin|insufficient|rate)"
    r"(?:-[a-z0-9]+)+"
)


def _enum() -> tuple[set[str], set[str]]:
    values = {v for k, v in vars(Reason).items() if k.isupper() and isinstance(v, str)}
    prefixes = {v for v in values if v.endswith("-")}
    return values - prefixes, prefixes


def _errors_md() -> set[str]:
    text = (ROOT / "docs" / "errors.md").read_text()
    section = text.split("## Reason codes", 1)[1].split("\n## ", 1)[0]
    codes: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            codes |= set(re.findall(r"`([^`]+)`", first_cell))
    return codes


def test_reason_and_errors_md_list_the_same_codes() -> None:
    values, prefixes = _enum()
    documented = _errors_md()
    assert values - documented == set(), "in Reason, missing from docs/errors.md"
    for prefix in prefixes:
        assert any(code.startswith(prefix) for code in documented), prefix
    unknown = {c for c in documented if c not in values and not c.startswith(tuple(prefixes))}
    assert unknown == set(), "in docs/errors.md, not in Reason"


def test_troubleshooting_names_only_documented_reasons() -> None:
    documented = _errors_md()
    named: set[str] = set()
    for line in (ROOT / "docs" / "troubleshooting.md").read_text().splitlines():
        match = re.match(r"\|[^|]*\b[1-5]\d\d `", line)
        if match:
            first_cell = line.split("|")[1]
            named |= {c for c in re.findall(r"`([^`]+)`", first_cell) if CODE.fullmatch(c)}
    assert named, "the troubleshooting tables name no reasons any more?"
    assert named - documented == set()


def test_reason_strings_in_the_code_live_in_reason() -> None:
    # A reason spelled out elsewhere (not through Reason) can drift from the docs.
    values, _ = _enum()
    strays = []
    for path in (ROOT / "clerk_fastapi").rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "clerk_fastapi":
            continue
        for literal in re.findall(r"\"([a-z0-9-]+)\"", path.read_text()):
            if CODE.fullmatch(literal) and (literal in values or literal.startswith("token-")):
                strays.append(f"{path.relative_to(ROOT)}: {literal}")
    assert strays == []
