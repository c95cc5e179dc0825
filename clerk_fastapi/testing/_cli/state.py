"""The state file: the CLERK_* settings ``serve --state`` writes and ``mint --state`` reads."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from clerk_fastapi.testing._cli.args import CLIError


def write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only (0600: it holds the fake's secret and machine
    keys), whole or not at all (``mint --state`` never reads half a file), through a temporary
    file with an unpredictable name in the same directory (nobody can plant it beforehand)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600, O_EXCL
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_state(path: str) -> tuple[str, str]:
    """The served fake's URL and secret key, from the file ``serve --state`` wrote."""
    try:
        state = json.loads(Path(path).read_text())
        return state["CLERK_API_URL"], state["CLERK_SECRET_KEY"]
    except (OSError, ValueError, KeyError) as exc:
        raise CLIError(f"{path}: not a state file written by `serve --state`") from exc
