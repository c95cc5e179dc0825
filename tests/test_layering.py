"""The import-linter contracts can fail: each deliberate violation breaks exactly its contract."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

VIOLATIONS = [
    ("clerk.py", "import starlette.requests\n", "FastAPI and Starlette only"),
    ("backend/http.py", "from clerk_fastapi.jose import compact\n", "Backend API client is a leaf"),
    ("jose/claims.py", "import clerk_fastapi.kinds\n", "Layers"),
    ("kinds/_jwt.py", "import clerk_fastapi.kinds.m2m\n", "No import cycles"),
    ("mcp/resource.py", "import mcp.server.auth\n", "The MCP SDK and FastMCP only"),
    ("kinds/oauth.py", "import fastmcp\n", "The MCP SDK and FastMCP only"),
    ("fastapi_auth/dependency.py", "import clerk_fastapi.mcp.audience\n", "Layers"),
    ("m2m_auth.py", "import clerk_fastapi.kinds.m2m\n", "Layers"),
    ("m2m_auth.py", "import fastapi\n", "FastAPI and Starlette only"),
    ("webhooks/verify.py", "import starlette.requests\n", "FastAPI and Starlette only"),
    ("webhooks/events.py", "import clerk_fastapi.clerk\n", "Layers"),
    ("webhooks/dedupe.py", "import clerk_fastapi.kinds\n", "Webhooks need no Clerk instance"),
]


def lint(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "clerk_fastapi", tmp_path / "clerk_fastapi")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold_on_the_package(package_copy: Path) -> None:
    result = lint(package_copy)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), VIOLATIONS)
def test_a_violation_breaks_its_contract(
    package_copy: Path, module: str, line: str, contract: str
) -> None:
    path = package_copy / "clerk_fastapi" / module
    path.write_text(path.read_text() + "\n" + line)
    result = lint(package_copy)
    assert result.returncode == 1
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
