"""Row 8: the first request with Clerk down, in an app without lifespan.

Runs in a fresh process (``python -m bench.firstreq MODE TOKEN TIMEOUT``; MODE ``refused``: nothing
listens on Clerk's port, ``hang``: it accepts connections and never answers) so that what the
first request builds and imports is really built and imported then. The app is what a user
writes: ``Clerk()`` from ``CLERK_*`` and ``FastAPI(lifespan=clerk.lifespan)`` with
``Depends(Auth())``, but the lifespan never runs (no warm-up, no ``install``). A ticker task sleeps 1 ms in a loop and records how late it wakes (the event loop's
lag); while the first request runs, a header-only route on the same app is called every 5 ms.
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from typing import Any

TICK = 0.001


def main() -> None:
    mode, token, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    port = hole.getsockname()[1]
    if mode == "hang":
        hole.listen(128)  # the kernel completes handshakes; nobody ever reads or answers
    else:
        hole.close()  # connection refused
    os.environ.update(
        CLERK_SECRET_KEY="sk_test_" + "b" * 40,
        CLERK_API_URL=f"http://127.0.0.1:{port}",
        CLERK_HTTP_TIMEOUT=str(timeout),
    )

    # The user's module: these imports happen at import time, before the server starts.
    import httpx
    from fastapi import Depends, FastAPI, Request

    from clerk_fastapi import Auth, Clerk

    clerk = Clerk()  # from CLERK_* (the README's shape); its lifespan never runs here
    app = FastAPI(lifespan=clerk.lifespan)

    @app.get("/s")
    async def protected(user: Any = Depends(Auth())) -> dict[str, str]:
        return {"user_id": user.user_id}

    async def header_only(request: Request) -> str:
        return request.headers.get("authorization", "")

    @app.get("/h")
    async def other(value: str = Depends(header_only)) -> dict[str, int]:
        return {"length": len(value)}

    async def scenario() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://app")
        await client.get("/h")  # FastAPI's own first-request work, outside the measurement
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(TICK)
                now = time.perf_counter()
                lags.append(now - last - TICK)
                last = now

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.2)  # the machine's own lag, before the first request
        idle_lag = max(lags, default=0.0)
        lags.clear()
        others: list[float] = []
        started = time.perf_counter()
        first = asyncio.create_task(client.get("/s", headers={"Authorization": f"Bearer {token}"}))
        while not first.done():
            t0 = time.perf_counter()
            await client.get("/h")
            others.append(time.perf_counter() - t0)
            await asyncio.sleep(0.005)
        response = await first
        elapsed = time.perf_counter() - started
        stop.set()
        await ticking
        await client.aclose()
        return {
            "mode": mode,
            "timeout_s": timeout,
            "status": response.status_code,
            "first_request_ms": round(elapsed * 1000, 1),
            "max_loop_lag_ms": round(max(lags, default=0.0) * 1000, 1),
            "idle_loop_lag_ms": round(idle_lag * 1000, 1),
            "other_requests": len(others),
            "other_request_max_ms": round(max(others, default=0.0) * 1000, 1),
        }

    print(json.dumps(asyncio.run(scenario())))
    hole.close()


if __name__ == "__main__":
    main()
