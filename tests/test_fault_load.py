"""Fault and load run with real sockets: the app under uvicorn on 127.0.0.1, the fake Clerk on
another loopback port with scripted latency, resets, 429s and 5xx. Bounded in count and time.

``make soak`` sets CLERK_SOAK_SECONDS for a longer run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, AuthEvent, Clerk
from clerk_fastapi.testing import FakeClerk

TIMEOUT = 1.0
SOAK_SECONDS = float(os.environ.get("CLERK_SOAK_SECONDS", "0"))


def build_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = clerk

    @app.get("/any")
    async def any_route(auth: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
        return {"t": auth.token_type}

    return app


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Workload:
    def __init__(self, fake: FakeClerk) -> None:
        self.fake = fake
        self.sessions = [fake.session_token(f"user_{i}", expires_in=600) for i in range(20)]
        self.expired = [fake.broken_session_token("expired") for _ in range(5)]
        self.unknown_kid = [
            fake.sign(fake.session_claims(expires_in=600), {"kid": f"ins_{secrets.token_hex(6)}"})
            for _ in range(5)
        ]
        self.opaque = [fake.m2m_token() for _ in range(5)]
        self.bad_opaque = ["mt_" + secrets.token_hex(20) for _ in range(5)]

    def mix(self, rounds: int) -> list[tuple[str, str]]:
        kinds = [
            *(("session", t) for t in self.sessions),
            *(("expired", t) for t in self.expired),
            *(("unknown_kid", t) for t in self.unknown_kid),
            *(("opaque", t) for t in self.opaque),
            *(("bad_opaque", t) for t in self.bad_opaque),
        ]
        return kinds * rounds


async def run(
    url: str, requests: list[tuple[str, str]], concurrency: int = 200
) -> list[tuple[str, int, float]]:
    sem = asyncio.Semaphore(concurrency)
    # No keep-alive: a pooled connection the server just closed is a harness race, not a result.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    results: list[tuple[str, int, float]] = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one(kind: str, token: str) -> None:
            async with sem:
                started = time.monotonic()
                response = await client.get("/any", headers={"Authorization": f"Bearer {token}"})
                results.append((kind, response.status_code, time.monotonic() - started))

        await asyncio.gather(*(one(kind, token) for kind, token in requests))
    return results


def by_kind(results: list[tuple[str, int, float]]) -> dict[str, Counter[int]]:
    summary: dict[str, Counter[int]] = {}
    for kind, status, _ in results:
        summary.setdefault(kind, Counter())[status] += 1
    return summary


HEALTHY = {
    "session": {200},
    "expired": {401},
    "unknown_kid": {401},
    "opaque": {200},
    "bad_opaque": {401},
}


@pytest.mark.slow
def test_faults_and_load_with_real_sockets() -> None:
    fake = FakeClerk(key_pool_index=None)
    counts: Counter[str] = Counter()
    with fake.serve():
        clerk = fake.clerk(use_network=True, http_timeout=TIMEOUT, jwks_refetch_cooldown=1)
        latencies: list[float] = []  # measured by the app itself, per decision

        def record(event: AuthEvent) -> None:
            latencies.append(event.latency_ms / 1000)

        clerk.on_authenticated = record
        clerk.on_rejected = record
        work = Workload(fake)
        with serve(build_app(clerk)) as url:
            # 1. Healthy load: exact answers, bounded upstream calls.
            results = asyncio.run(run(url, work.mix(8)))
            summary = by_kind(results)
            for kind, allowed in HEALTHY.items():
                assert set(summary[kind]) <= allowed, (kind, summary[kind])
            assert fake.hits["jwks"] <= 2
            assert fake.hits["m2m_verify"] <= 8 * (len(work.opaque) + len(work.bad_opaque))
            counts["requests"] += len(results)

            # 2. Faults on the verify endpoint: only requests that need Clerk become 503s.
            for fault, options in [
                ("slow", {"delay": 3.0}),
                ("status", {"status": 429, "retry_after": 4}),
                ("status", {"status": 502}),
                ("down", {}),
            ]:
                fake.fail("m2m_verify", fault, **options)  # type: ignore[arg-type]
                fresh_opaque = [("opaque", fake.m2m_token()) for _ in range(10)]
                results = asyncio.run(run(url, work.mix(2) + fresh_opaque))
                summary = by_kind(results)
                assert set(summary["session"]) == {200}, (fault, summary)
                assert set(summary["expired"]) == {401}
                assert set(summary["opaque"]) == {503}, (fault, summary["opaque"])
                assert set(summary["bad_opaque"]) <= {401, 503}  # 401 if negatively cached
                # Our own deadline holds for every decision; clients also see queueing here
                # (client, app and fake share one process), hence the looser outer bound.
                assert max(latencies) < TIMEOUT + 0.3, max(latencies)
                assert max(d for _, _, d in results) < TIMEOUT + 4.0
                counts["faults"] += 1
                counts["requests"] += len(results)
                counts["503"] += sum(s == 503 for _, s, _ in results)
                counts["5xx_other"] += sum(s >= 500 and s != 503 for _, s, _ in results)
                fake.heal()

            # 3. A key rotation in the middle: one JWKS fetch, no failed valid request.
            # Unknown kids above started the refetch cool-down; a rotation inside it would wait
            # for the cool-down to end (documented). Step past it, then rotate.
            time.sleep(1.1)
            jwks_before = fake.hits["jwks"]
            new_key = fake.rotate_key()
            rotated = [
                ("session", fake.session_token(f"user_r{i}", expires_in=600)) for i in range(20)
            ]
            assert all(fake.signing_key is new_key for _ in rotated)
            results = asyncio.run(run(url, work.mix(2) + rotated))
            summary = by_kind(results)
            assert set(summary["session"]) == {200}, summary["session"]
            assert fake.hits["jwks"] - jwks_before == 1
            counts["requests"] += len(results)
            # Every decision of every phase so far (memory tracing below slows everything down).
            slowest = max(latencies)
            assert slowest < TIMEOUT + 0.5, slowest

            # 4. Optional soak, then memory must be flat across identical rounds.
            deadline = time.monotonic() + SOAK_SECONDS
            while time.monotonic() < deadline:
                counts["requests"] += len(asyncio.run(run(url, work.mix(4))))
            tracemalloc.start(5)
            asyncio.run(run(url, work.mix(4)))  # warm: caches and pools at their size
            before = tracemalloc.take_snapshot()
            for _ in range(3):
                counts["requests"] += len(asyncio.run(run(url, work.mix(4))))
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            ours = [
                tracemalloc.Filter(True, "*/clerk_fastapi/*"),
                tracemalloc.Filter(False, "*/testing/*"),
            ]
            diff = after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
            growth = sum(stat.size_diff for stat in diff)
            assert growth < 256 * 1024, diff[:5]
    assert counts["5xx_other"] == 0
    print(
        f"\nfault/load run: {dict(counts)}, slowest decision {slowest:.3f} s, "
        f"memory growth {growth / 1024:.0f} KiB"
    )
