"""Docs, README and examples import only public names: ``clerk_fastapi`` and the documented
public subpackages, each name from that module's ``__all__``."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {
    "clerk_fastapi",
    "clerk_fastapi.testing",
    "clerk_fastapi.mcp",
    "clerk_fastapi.mcp.sdk",
    "clerk_fastapi.mcp.fastmcp",
    "clerk_fastapi.webhooks",
    "clerk_fastapi.telemetry",
}
OPTIONAL_EXTRAS = {"mcp", "fastmcp", "opentelemetry"}
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _sources() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in _BLOCK.findall(path.read_text()):
            found.append((str(path.relative_to(ROOT)), block))
    for folder in ("docs/examples", "example_app"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found.append((str(path.relative_to(ROOT)), path.read_text()))
    return found


def _imports(source: str) -> list[tuple[str, str | None]]:
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            out.extend((alias.name, None) for alias in node.names)
    return [(module, name) for module, name in out if module.split(".")[0] == "clerk_fastapi"]


def test_docs_and_examples_import_only_public_names() -> None:
    wrong = []
    for where, source in _sources():
        for module, name in _imports(source):
            if where.startswith("example_app") and module.startswith("example_app"):
                continue
            if module not in PUBLIC:
                wrong.append(f"{where}: {module} is internal")
                continue
            if name is not None:
                try:
                    imported = importlib.import_module(module)
                except ModuleNotFoundError as exc:
                    # An adapter of an optional extra that is not installed (make test-all runs
                    # without the mcp extra): its names are checked where the extra is.
                    if (exc.name or "").split(".")[0] in OPTIONAL_EXTRAS:
                        continue
                    raise
                exported = getattr(imported, "__all__", None)
                if exported is None:  # an adapter module: its names without an underscore
                    exported = [n for n in vars(imported) if not n.startswith("_")]
                if name not in exported:
                    wrong.append(f"{where}: {module}.{name} is not in its __all__")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "name",
    [
        "ClerkM2MAuth",
        "M2MToken",
        "APIKey",
        "OAuthAccessToken",
        "Machine",
        "M2MClient",
        "OAuthClient",
        "APIKeysClient",
        "Machines",
        "KindRegistry",
    ],
)
def test_what_users_are_handed_is_exported(name: str) -> None:
    import clerk_fastapi

    assert name in clerk_fastapi.__all__
    assert getattr(clerk_fastapi, name) is not None


def _class_names() -> dict[str, list[str]]:
    """Every class defined in the package, by name: where each is defined."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "clerk_fastapi").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("name", ["Clerk", "ClerkError"])
def test_one_class_per_public_name(name: str) -> None:
    """``Clerk`` and ``ClerkError`` each name one class (issue 23: the FastAPI ``Clerk`` and
    the error body model ``ClerkError`` shared the names of another class)."""
    assert len(_class_names().get(name, [])) == 1, _class_names().get(name)
