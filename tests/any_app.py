"""One route that accepts any token type, and an in-process client for it: what the shared-tier
tests (production, cluster, timeout, telemetry) put in front of a ``Clerk``."""

from __future__ import annotations

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk


def make_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    app.state.clerk = clerk

    @app.get("/any")
    async def any_route(auth: object = Depends(Auth(accepts="any"))) -> dict[str, str]:
        return {"type": getattr(auth, "token_type", "")}

    return app


def client(clerk: Clerk) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(clerk))
    return httpx.AsyncClient(transport=transport, base_url="http://app")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
