"""Runs inside bench/.venv-peers (fastapi-clerk-auth, clerk-backend-api) with ``BENCH_PEERS=1``:
per-call timings and the peers' behaviour with a hanging JWKS endpoint. Never imported by the
package or its tests."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def timed(fn: Any, n: int) -> list[float]:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - started) / n * 1e6)
    return runs


def percall(token: str, pem: str, jwks_url: str, secret: str, azp: str) -> dict[str, list[float]]:
    import httpx
    from clerk_backend_api.security import authenticate_request
    from clerk_backend_api.security.types import AuthenticateRequestOptions
    from fastapi_clerk_auth import ClerkConfig, ClerkHTTPBearer
    from starlette.requests import Request

    headers = [(b"authorization", f"Bearer {token}".encode())]
    options = AuthenticateRequestOptions(jwt_key=pem, authorized_parties=[azp])
    sdk_request = httpx.Request("GET", "http://app/", headers={"Authorization": f"Bearer {token}"})

    def sdk() -> None:
        state = authenticate_request(sdk_request, options)
        assert state.is_signed_in, state.reason

    config = ClerkConfig(jwks_url=jwks_url, jwks_headers={"Authorization": f"Bearer {secret}"})
    guard = ClerkHTTPBearer(config)
    loop = asyncio.new_event_loop()

    def fca() -> None:
        request = Request({"type": "http", "headers": headers, "method": "GET", "path": "/"})
        assert loop.run_until_complete(guard(request)) is not None

    fca()  # fetch and cache the JWKS once
    return {"official_sdk_networkless": timed(sdk, 500), "fastapi_clerk_auth": timed(fca, 500)}


def outage(jwks_url: str, secret: str, token: str, cap: float) -> dict[str, Any]:
    """Time to an answer with the JWKS endpoint dead, in a thread capped at ``cap`` seconds."""
    import threading

    import httpx
    from clerk_backend_api.security import authenticate_request
    from clerk_backend_api.security.types import AuthenticateRequestOptions
    from fastapi_clerk_auth import ClerkConfig, ClerkHTTPBearer
    from starlette.requests import Request

    results: dict[str, Any] = {}

    def run(name: str, fn: Any) -> None:
        started = time.monotonic()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["answer"] = fn()
            except Exception as exc:  # the peer's own failure mode is the result
                box["answer"] = f"exception {type(exc).__name__}"

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(cap)
        elapsed = time.monotonic() - started
        results[name] = {
            "seconds": round(elapsed, 3),
            "answer": box.get("answer", f"no answer within {cap:.0f} s"),
        }

    def sdk() -> str:
        request = httpx.Request("GET", "http://app/", headers={"Authorization": f"Bearer {token}"})
        state = authenticate_request(request, AuthenticateRequestOptions(secret_key=secret))
        return f"signed_in={state.is_signed_in} reason={state.reason}"

    def fca() -> str:
        guard = ClerkHTTPBearer(ClerkConfig(jwks_url=jwks_url, jwks_client_timeout=30))
        request = Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/",
                "headers": [(b"authorization", f"Bearer {token}".encode())],
            }
        )
        try:
            asyncio.new_event_loop().run_until_complete(guard(request))
            return "200"
        except Exception as exc:
            return f"{getattr(exc, 'status_code', type(exc).__name__)}"

    run("official_sdk", sdk)
    run("fastapi_clerk_auth", fca)
    return results


if __name__ == "__main__":
    command, args = sys.argv[1], json.loads(sys.argv[2])
    if command == "percall":
        out: Any = percall(**args)
    elif command == "outage":
        out = outage(**args)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))
