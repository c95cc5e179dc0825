"""`make demo` end to end: start it, run every printed request, check every printed answer."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def parse_demo(lines: list[str]) -> list[tuple[list[str], str]]:
    cases = []
    for index, line in enumerate(lines):
        if line.startswith("curl "):
            expect = lines[index + 1]
            assert expect.startswith("# expect: "), expect
            cases.append((shlex.split(line), expect.removeprefix("# expect: ")))
    return cases


def run_curl_with_httpx(argv: list[str]) -> httpx.Response:
    method, headers, url = "GET", {}, argv[-1]
    for flag, value in itertools.pairwise(argv):
        if flag == "-X":
            method = value
        if flag == "-H":
            name, _, content = value.partition(": ")
            headers[name] = content
    return httpx.request(method, url, headers=headers, timeout=10)


def test_demo_prints_requests_that_work() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "example_app", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    try:
        cases = parse_demo(lines)
        assert len(cases) == 10, "\n".join(lines)
        base = next(line for line in lines if line.startswith("Swagger UI: ")).split()[2]
        base = base.removesuffix("/docs")
        ready = time.monotonic() + 60  # the server starts right after printing (a busy CI
        while time.monotonic() < ready:  # machine may take a while: a start-up wait, no bound)
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        for argv, expect in cases:
            response = run_curl_with_httpx(argv)
            status, _, body = expect.partition(" ")
            assert response.status_code == int(status), (argv[-1], response.text)
            if body:
                assert response.json() == json.loads(body)
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, rest
    assert "Traceback" not in rest


def test_demo_on_a_busy_port_says_so_in_one_line() -> None:
    """`make demo` when port 8000 is taken: one line naming the port and PORT, no traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
        env["PORT"] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "example_app"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Port {port} on 127.0.0.1 is busy" in lines[0]
    assert "PORT=" in lines[0] and "make demo" in lines[0]
    assert "Traceback" not in result.stderr
