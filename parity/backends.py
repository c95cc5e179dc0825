"""The Clerks both sides talk to: the main fake, one fake per fault scenario, and a closed port."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from cases import Cases
from common import FAULT_SCENARIOS

from clerk_fastapi.testing import FakeClerk, FrozenClock


class Backends:
    """The main fake, one fake per fault scenario, and a closed port (connection refused)."""

    def __init__(self, fake: FakeClerk, clock: FrozenClock, builder: Cases) -> None:
        self.main = fake
        self.builder = builder
        self.fakes: dict[str, FakeClerk] = {}
        for name, endpoints in FAULT_SCENARIOS.items():
            other = FakeClerk(clock=clock)
            for endpoint in endpoints:
                if name == "jwks_empty":
                    other.jwks_override = {"keys": []}
                elif name.endswith("_malformed"):
                    other.fail(endpoint, "malformed")  # type: ignore[arg-type]
                elif name == "bapi_429":
                    other.fail(endpoint, status=429, retry_after=3)  # type: ignore[arg-type]
                else:
                    status = int(name.rsplit("_", 1)[1])
                    other.fail(endpoint, status=status)  # type: ignore[arg-type]
            self.fakes[name] = other
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.closed_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        sock.close()

    def serve(self, stack: contextlib.ExitStack) -> None:
        for other in self.fakes.values():
            stack.enter_context(other.serve())

    def resolve(self, cfg: dict[str, Any]) -> dict[str, Any]:
        """The concrete settings of a case's configuration, shared by both sides."""
        backend = cfg.get("backend", "main")
        fake = self.fakes.get(backend, self.main)
        secret = fake.secret_key if cfg.get("secret_key") != "wrong" else "sk_test_" + "w" * 40
        msk = cfg.get("machine_secret_key")
        return {
            "api_url": self.closed_url if backend == "closed" else fake.api_url,
            "secret_key": secret,
            "publishable_key": (
                self.builder.live_pk if cfg["publishable_key"] == "live" else self.builder.test_pk
            ),
            "jwt_key": {"pem": self.builder.pem, "other_pem": self.builder.other_pem}.get(
                cfg.get("jwt_key") or ""
            ),
            "machine_secret_key": (
                fake.machine_secret_key if msk == "good" else "ak_" + "w" * 40 if msk else None
            ),
        }
