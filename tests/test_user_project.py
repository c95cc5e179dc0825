"""A throwaway user project, installed from this repository into a fresh virtualenv.

It holds exactly the app and test files that docs/testing.md shows; its pytest run must find the
``fake_clerk`` fixtures through the plugin's entry point, with no conftest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"


def test_user_project_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLES / "testing_app.py", project / "testing_app.py")
    shutil.copy(EXAMPLES / "test_testing_app.py", project / "test_app.py")
    assert not list(project.glob("conftest.py"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLERK_", "PYTHON"))}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT), "pytest", "httpx"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "6 passed" in run.stdout
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
