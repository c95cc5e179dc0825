"""A fifth built-in token type is its kinds module, its Backend API module and one registration.

``tests/kinds/fifth/pat.py`` and ``pat_api.py`` are written as ``clerk_fastapi/kinds/pat.py`` and
``clerk_fastapi/backend/pat.py`` would be. Registered the way the four are (a ``Clerk`` whose
built-ins are ``kinds.BUILTINS`` and its ``BUILTIN``), the type works end to end; dropped into a
copy of the package with its entry in ``kinds/__init__.py`` (the ``BUILTINS`` tuple, and its
principal in the ``TokenType`` and ``AuthObject`` written beside it), it is a built-in like the
four, and no other file of the package changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clerk_fastapi import APIKeysClient, Clerk, M2MClient, OAuthClient
from clerk_fastapi.kinds import API_KEY, BUILTINS, M2M_TOKEN, OAUTH_TOKEN
from clerk_fastapi.testing import FakeClerk
from tests.kinds.fifth import pat, scenario
from tests.test_layering import lint

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clerk_fastapi"
FIFTH = Path(__file__).resolve().parent / "fifth"


class FifthClerk(Clerk):
    _builtins = (*BUILTINS, pat.BUILTIN)


@pytest.mark.anyio
async def test_a_fifth_type_registered_like_the_four_works_end_to_end() -> None:
    scenario.check(await scenario.observe(pat, FifthClerk), pat)


def test_each_builtin_client_verifies_through_the_registered_verifier(
    fake_clerk: FakeClerk,
) -> None:
    clerk = fake_clerk.clerk()
    assert clerk.registry.token_types == tuple(builtin.kind.name for builtin in BUILTINS)
    for name, client, cls in (
        (M2M_TOKEN, clerk.m2m, M2MClient),
        (OAUTH_TOKEN, clerk.oauth_tokens, OAuthClient),
        (API_KEY, clerk.api_keys, APIKeysClient),
    ):
        assert type(client) is cls
        assert client._verifier is clerk.registry[name]


# The registration of the new type in kinds/__init__.py: (what it said, what it says).
REGISTRATION = [
    (
        "from clerk_fastapi.kinds import api_key, m2m, oauth, session\n",
        "from clerk_fastapi.kinds import api_key, m2m, oauth, pat, session\n",
    ),
    ("api_key.BUILTIN)\n", "api_key.BUILTIN, pat.BUILTIN)\n"),
    ('"m2m_token", "api_key"]\n', '"m2m_token", "api_key", "pat"]\n'),
    ("M2MAuth, APIKeyAuth],", "M2MAuth, APIKeyAuth, pat.PATAuth],"),
]

SCRIPT = """
import json, typing
import anyio
import clerk_fastapi
from clerk_fastapi import AuthObject, Clerk, TokenType
from clerk_fastapi.kinds import BUILTIN_TYPES, pat
from tests.kinds.fifth import scenario

seen = anyio.run(scenario.observe, pat, Clerk)
seen["package"] = clerk_fastapi.__file__
seen["builtin_types"] = list(BUILTIN_TYPES)
seen["token_type"] = list(typing.get_args(TokenType))
seen["auth_object"] = [m.__name__ for m in typing.get_args(typing.get_args(AuthObject)[0])]
print(json.dumps(seen))
"""


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once"
    return text.replace(old, new)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_in_a_copy_of_the_package_a_fifth_builtin_is_two_modules_and_one_entry(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "clerk_fastapi"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kind = _replace_once(
        (FIFTH / "pat.py").read_text(),
        "from tests.kinds.fifth import pat_api as backend\n",
        "from clerk_fastapi.backend import pat as backend\n",
    )
    (copy / "kinds" / "pat.py").write_text(kind)
    shutil.copy(FIFTH / "pat_api.py", copy / "backend" / "pat.py")
    registration = copy / "kinds" / "__init__.py"
    text = registration.read_text()
    for old, new in REGISTRATION:
        text = _replace_once(text, old, new)
    registration.write_text(text)

    before, after = _files(PACKAGE), _files(copy)
    changed = sorted(name for name in after if before.get(name) != after[name])
    assert changed == ["backend/pat.py", "kinds/__init__.py", "kinds/pat.py"]
    assert set(before) <= set(after)

    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert Path(seen["package"]).parent == copy  # the copy, not the package under test
    scenario.check(seen, pat)
    assert seen["builtin_types"][-1] == seen["token_type"][-1] == "pat"
    assert seen["auth_object"][-1] == "PATAuth"

    # The new modules keep the layering (the kinds module above the Backend API module).
    contracts = lint(tmp_path)
    assert contracts.returncode == 0, contracts.stdout[-2000:]
