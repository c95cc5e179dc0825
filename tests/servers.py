"""The one way the tests serve an ASGI app over a real loopback socket.

``serve_app(app)`` runs ``app`` under uvicorn in a thread and yields its base URL;
``serve_app("module:attr", workers=4, ...)`` runs ``uvicorn --workers N`` in a subprocess instead
(for the multi-process fleet). Start-up waits are generous (a busy 2-core CI machine); shutdown
cancels whatever is still running after one second, so a scripted hang never delays teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import uvicorn

STARTUP_DEADLINE = 60.0


@contextlib.contextmanager
def serve_app(
    app: Any,
    *,
    workers: int | None = None,
    app_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yields ``http://127.0.0.1:<port>``."""
    if isinstance(app, str):
        with _serve_processes(app, workers or 1, app_dir, env) as url:
            yield url
        return
    assert workers is None and env is None, "workers/env need an import string"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=1,
        # h11 refuses a request head over 16 KiB only when it arrives in pieces, which depends
        # on scheduling; a fixed 128 KiB makes a 64 KiB header reach the app every time.
        h11_max_incomplete_event_size=128 * 1024,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextlib.contextmanager
def _serve_processes(
    target: str, workers: int, app_dir: Path | None, env: Mapping[str, str] | None
) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    command += ["--timeout-graceful-shutdown", "1"]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    proc = subprocess.Popen(command, env=dict(env if env is not None else os.environ))
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert proc.poll() is None, f"uvicorn exited with {proc.returncode}"
            assert time.monotonic() < deadline, "uvicorn did not start"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
