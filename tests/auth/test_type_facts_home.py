"""The package holds no fact about one token type outside its kind record: no type name, no
Clerk prefix. Each comes from ``clerk_fastapi/kinds`` (the testing kit, a model of Clerk, may
name them), so a wrong or new one has one home."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from clerk_fastapi import ClerkSettings
from clerk_fastapi.kinds import BUILTIN_KINDS, BUILTIN_TYPES, AuthObject, TokenType, m2m

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


# Modules below ``kinds`` in the layering (they cannot import it) that must still spell a fact,
# each checked against its kind record below. Anything else they name fails the test.
ALLOWED = {
    # pydantic needs literal discriminators (``Literal["oauth_token"]``) for ``AuthObject``'s
    # tagged union; ``kinds`` takes its ``principal`` models from here.
    "principals.py": {"session_token", "oauth_token", "m2m_token", "api_key"},
    # ``ClerkSettings`` checks CLERK_MACHINE_ID when it is built, below the kinds.
    "settings.py": {"mch_"},
}
OUTSIDE_KINDS = sorted(
    path
    for path in PACKAGE.rglob("*.py")
    if path.relative_to(PACKAGE).parts[0] not in ("kinds", "testing", "__pycache__")
)


@pytest.mark.parametrize(
    "path", OUTSIDE_KINDS, ids=lambda p: str(p.relative_to(PACKAGE)).replace("/", ".")
)
def test_no_type_fact_outside_the_kinds(path: Path) -> None:
    found = set(FACT.findall(_code(path))) - ALLOWED.get(str(path.relative_to(PACKAGE)), set())
    where = path.relative_to(PACKAGE)
    assert not found, f"{where} names {sorted(found)}: take them from clerk_fastapi.kinds"


def test_the_allowed_literals_agree_with_the_kind_records() -> None:
    # Written out beside ``kinds.BUILTINS`` for type checkers; the same types, in its order.
    assert TokenType.__args__ == BUILTIN_TYPES  # type: ignore[attr-defined]
    union = typing.get_args(AuthObject)[0]
    assert typing.get_args(union) == tuple(kind.principal for kind in BUILTIN_KINDS)
    for kind in BUILTIN_KINDS:
        assert kind.principal.model_fields["token_type"].default == kind.name
    ClerkSettings(machine_id=f"{m2m.MACHINE_ID_PREFIX}abc")
    with pytest.raises(ValidationError):
        ClerkSettings(machine_id="machine_abc")


def test_the_oauth_audience_check_lives_with_the_oauth_kind() -> None:
    from clerk_fastapi.jose import claims

    assert not hasattr(claims, "check_oauth_audience")
