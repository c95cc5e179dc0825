"""Start a real redis-server on a free loopback port (Debian's redis-server)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server is not installed (make test installs Debian's redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing Redis is a failure, not a skip
        pytest.skip(message)
    return path


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = require_redis_server()
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        time.sleep(0.02)
    try:
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise AssertionError(f"redis-server did not start on port {port}")


class RestartableRedis:
    """A redis-server that persists every write (AOF, fsync always) and can be stopped and
    started again on the same port with the same data: what a production restart looks like."""

    def __init__(self, directory: str) -> None:
        self.binary = require_redis_server()
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.proc is None
        self.proc = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "always", "--dir", self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)
        # Until it has loaded its data (it answers LOADING meanwhile): a started Redis is ready.
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=2).ping():
                    return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not finish loading"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # a clean shutdown: the AOF is complete
            self.proc.wait(timeout=30)
            self.proc = None


@contextlib.contextmanager
def restartable_redis(directory: str) -> Iterator[RestartableRedis]:
    server = RestartableRedis(directory)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.kill()
            server.proc.wait(timeout=10)


@contextlib.contextmanager
def redis_cluster(directory: str, nodes: int = 3) -> Iterator[str]:
    """A real Redis Cluster of ``nodes`` masters on loopback (``redis-cli --cluster create``);
    yields the URL of its first node."""
    binary = require_redis_server()
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed")
    ports = [free_port() for _ in range(nodes)]
    procs = []
    try:
        for port in ports:
            node_dir = os.path.join(directory, str(port))
            os.makedirs(node_dir, exist_ok=True)
            procs.append(
                subprocess.Popen(
                    [
                        *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
                        *("--appendonly", "no", "--cluster-enabled", "yes", "--dir", node_dir),
                        *("--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"),
                        # The bus port: by default port + 10000, which a free port may overflow.
                        *("--cluster-port", str(free_port())),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            _wait_for_port(port)
        addresses = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while True:
            states = [
                subprocess.run(
                    [cli, "-p", str(port), "cluster", "info"],
                    capture_output=True,
                    text=True,
                    timeout=10,
                ).stdout
                for port in ports
            ]
            if all("cluster_state:ok" in state for state in states):
                break
            assert time.monotonic() < deadline, "the Redis Cluster did not become ready"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


async def forgets_delivered(clerk: Any) -> None:
    """Wait (bounded) until ``clerk``'s queued forgets reached Redis: delivery is real I/O,
    while the forget-log interval runs on the fake's clock (tests advance it)."""
    for _ in range(500):
        if not clerk.store.forgets.pending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the forgets never reached Redis")
