"""The request path holds no fact about one token type: no type name, no Clerk prefix. Each
comes from its kind record (``clerk_fastapi/kinds``), so a wrong or new one has one home."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "clerk_fastapi"
# Quoted type names and Clerk's prefixes, as code (docstrings and comments are prose).
FACT = re.compile(
    r"[\"'](session_token|oauth_token|m2m_token|api_key|machine_token|mt_|oat_|ak_|mch_)[\"']"
)


def _code(path: Path) -> str:
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                body[0].value = ast.Constant("")  # drop docstrings
    return ast.unparse(tree)


@pytest.mark.parametrize("path", sorted((PACKAGE / "auth").glob("*.py")), ids=lambda p: p.name)
def test_the_request_path_takes_type_facts_from_the_kinds(path: Path) -> None:
    found = FACT.findall(_code(path))
    assert not found, f"{path.name} names {sorted(set(found))}: take them from clerk_fastapi.kinds"
