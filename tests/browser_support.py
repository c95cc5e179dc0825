"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read commands on fd 3 and write answers and events on
fd 4, NUL-terminated JSON: no websocket client and no browser download is needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]


TRAMPOLINE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


def require_chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path is not None:
            return path
    message = "chromium is not installed (make test installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI a missing browser is a failure, not a skip
    pytest.skip(message)


class Browser:
    """One page of a headless Chromium; ``evaluate`` runs JavaScript in it."""

    def __init__(self, process: subprocess.Popen[bytes], commands: Any, answers: Any) -> None:
        self.process = process
        self._commands = commands
        self._answers = answers
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._answers.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False
    ) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session is not None and not browser:
            message["sessionId"] = self.session
        self._commands.write(json.dumps(message).encode() + b"\0")
        self._commands.flush()
        while True:
            answer = self._read_message()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, browser=True
        )
        self.session = attached["sessionId"]
        self.send("Network.enable")
        self.send("Page.enable")

    def navigate(self, url: str) -> None:
        """Open ``url`` in a fresh document (via about:blank, so no element of the previous
        page can answer a ``wait_for``)."""
        self.send("Page.navigate", {"url": "about:blank"})
        self.wait_for("location.href === 'about:blank'")
        self.events.clear()
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll until ``expression`` is truthy (a wait for rendering, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path) -> None:
        import base64

        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))


def _high(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more, so moving it to fd 3 or 4 cannot clobber the other."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    binary = require_chromium()
    to_browser_r, to_browser_w = (_high(fd) for fd in os.pipe())
    from_browser_r, from_browser_w = (_high(fd) for fd in os.pipe())
    # A small Python trampoline puts the pipe ends on fds 3 and 4, where --remote-debugging-pipe
    # expects them, then becomes Chromium (dash cannot redirect fds above 9).
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            TRAMPOLINE,
            str(to_browser_r),
            str(from_browser_w),
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
        ],
        pass_fds=(to_browser_r, from_browser_w),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_browser_r)
    os.close(from_browser_w)
    commands = os.fdopen(to_browser_w, "wb")
    answers = os.fdopen(from_browser_r, "rb")
    browser = Browser(process, commands, answers)
    try:
        browser.open_page()
        yield browser
    finally:
        with contextlib.suppress(Exception):
            browser.send("Browser.close", browser=True)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        commands.close()
        answers.close()
