"""The calling side's cost: ``httpx.AsyncClient(auth=clerk.m2m.auth())`` with a warm token
against a bare ``httpx.AsyncClient``, both calling the same loopback service (target: < 5%).

The service answers without verifying anything, so only the caller's side is measured. Requests
alternate bare / with auth one by one, and medians are compared, so that a machine that slows
down mid-run hurts both alike. The auth flow is also timed alone (no network).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake.server import serve_asgi


def _target() -> Starlette:
    async def ok(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", ok)])


async def _one_us(client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await client.get("/")
    elapsed = (time.perf_counter() - started) * 1e6
    assert response.status_code == 200
    return elapsed


async def _flow_only_us(auth: httpx.Auth, n: int) -> float:
    """The auth flow alone (warm token, no network): what it adds to each request."""
    request = httpx.Request("GET", "http://127.0.0.1/")
    response = httpx.Response(200, request=request)
    started = time.perf_counter()
    for _ in range(n):
        flow = auth.async_auth_flow(request)
        await flow.__anext__()
        with contextlib.suppress(StopAsyncIteration):
            await flow.asend(response)
    return (time.perf_counter() - started) / n * 1e6


def calling_side(fake: FakeClerk, *, quick: bool = False) -> dict[str, Any]:
    machine, _ = fake.machines_that_talk()
    clerk = fake.clerk(machine_secret_key=machine.secret_key)
    rounds, n = (3, 100) if quick else (7, 2000)

    async def measure(url: str) -> dict[str, Any]:
        auth = clerk.m2m.auth()
        async with (
            httpx.AsyncClient(base_url=url) as bare,
            httpx.AsyncClient(base_url=url, auth=auth) as with_auth,
        ):
            await bare.get("/")
            await with_auth.get("/")  # creates the token: warm from here on
            created = fake.hits["m2m_create"]
            # Request by request, alternating which goes first: a busy machine's drift hits both.
            bare_runs, auth_runs = [], []
            for i in range(n):
                pair = (bare, with_auth) if i % 2 else (with_auth, bare)
                first, second = await _one_us(pair[0]), await _one_us(pair[1])
                bare_runs.append(first if pair[0] is bare else second)
                auth_runs.append(second if pair[0] is bare else first)
            assert fake.hits["m2m_create"] == created  # warm: no token was created meanwhile
            flow = statistics.median([await _flow_only_us(auth, n * 10) for _ in range(rounds)])
        bare_us, auth_us = statistics.median(bare_runs), statistics.median(auth_runs)
        return {
            "requests_each": n,
            "bare_httpx_us": round(bare_us, 1),
            "with_clerk_m2m_auth_us": round(auth_us, 1),
            "overhead_pct": round((auth_us - bare_us) / bare_us * 100, 2),
            "auth_flow_alone_us": round(flow, 2),
            "auth_flow_alone_pct_of_bare": round(flow / bare_us * 100, 2),
            "token_creations": fake.hits["m2m_create"],
        }

    with serve_asgi(_target()) as url:
        return asyncio.run(measure(url))


if __name__ == "__main__":
    import json

    print(json.dumps(calling_side(FakeClerk()), indent=2))
