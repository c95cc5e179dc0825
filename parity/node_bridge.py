"""The one way the parity runs start Node: a script in parity/, JSON on stdin, JSON on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

from common import HERE


def run_script(script: str, payload: Any, *, timeout: float | None = None) -> Any:
    """Run ``parity/<script>`` with ``payload`` as JSON on stdin; return its JSON answer.

    Exits the run (``SystemExit``) when node is missing or the script fails, after echoing the end
    of its stderr.
    """
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: install Node.js >= 20 (apt-get install nodejs)")
    proc = subprocess.run(  # noqa: S603 (fixed argv)
        [node, str(HERE / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{script} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout)
