"""A throwaway user project, installed from this repository into a fresh virtualenv.

It holds exactly the README's app (``main.py``) and the test file docs/testing.md shows; its
pytest run must find the ``fake_clerk`` fixtures through the plugin's entry point (no conftest),
need no ``CLERK_*`` variable, and open no network connection: a guard plugin outside the project
records every DNS look-up and connection attempt and fails the run if there was one. A control
run shows the guard catches the real instance's start-up when the app is not swapped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"

NETWORK_GUARD = """
import socket

import pytest

attempts = []
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _blocked(what):
    attempts.append(repr(what.decode() if isinstance(what, bytes) else what))
    raise OSError(f"network blocked by the test harness: {what!r}")


def _guard_connect(self, address):
    if self.family == socket.AF_UNIX:
        return _connect(self, address)
    _blocked(address)


def _guard_connect_ex(self, address):
    if self.family == socket.AF_UNIX:
        return _connect_ex(self, address)
    _blocked(address)


def _guard_getaddrinfo(host, *args, **kwargs):
    _blocked(host)


socket.socket.connect = _guard_connect
socket.socket.connect_ex = _guard_connect_ex
socket.getaddrinfo = _guard_getaddrinfo


def pytest_sessionfinish(session, exitstatus):
    if attempts:
        print("\\nNETWORK ATTEMPTS:", ", ".join(sorted(set(attempts))))
        session.exitstatus = 1
"""

CONTROL_TEST = """
from fastapi.testclient import TestClient
from main import app


def test_the_real_instance_starts():
    with TestClient(app):
        pass
"""


def readme_app() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return str(blocks[0])


def test_docs_show_the_readme_app() -> None:
    """docs/testing.md shows docs/examples/main.py, which must be the README's app (the page's
    copies are checked against the files by test_docs_examples.py)."""
    assert (EXAMPLES / "main.py").read_text() == readme_app()
    page = (ROOT / "docs" / "testing.md").read_text()
    assert "<!-- example: docs/examples/main.py -->" in page
    assert "<!-- example: docs/examples/test_main.py -->" in page


def _run(
    python: Path, args: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.slow  # a fresh virtualenv and a pip install: `make test-slow` (CI) runs it
def test_user_project_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text(readme_app())
    shutil.copy(EXAMPLES / "test_main.py", project / "test_main.py")
    assert not list(project.glob("conftest.py"))
    harness = tmp_path / "harness"
    harness.mkdir()
    (harness / "network_guard.py").write_text(NETWORK_GUARD)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLERK_", "PYTHON"))}
    install = _run(python, ["-m", "pip", "install", "-q", str(ROOT), "pytest", "httpx"], ROOT, env)
    assert install.returncode == 0, install.stderr[-3000:]
    guarded = {**env, "PYTHONPATH": str(harness)}
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "network_guard"]

    run = _run(python, pytest_args, project, guarded)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "7 passed" in run.stdout
    assert "NETWORK ATTEMPTS" not in run.stdout
    # The run used the copy installed into the fresh virtualenv, not this repository's source.
    where = subprocess.run(
        [str(python), "-c", "import clerk_fastapi; print(clerk_fastapi.__file__)"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    installed = Path(where.stdout.strip()).resolve()
    assert installed.is_relative_to(env_dir.resolve()), installed
    assert not installed.is_relative_to(ROOT), installed

    # Control: the same app started for real (a key set, nothing swapped) reaches for Clerk's
    # servers at start-up, and the guard sees it.
    control = tmp_path / "control"
    control.mkdir()
    (control / "main.py").write_text(readme_app())
    (control / "test_control.py").write_text(CONTROL_TEST)
    real = {**guarded, "CLERK_SECRET_KEY": "sk_test_" + "x" * 40}
    run = _run(python, pytest_args, control, real)
    assert run.returncode != 0
    assert "NETWORK ATTEMPTS: 'api.clerk.com'" in run.stdout, run.stdout[-3000:]
