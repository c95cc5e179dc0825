"""What many tests put in front of a ``Clerk``: one route that accepts any token type, a route
for API keys, an in-process client, and the ``Authorization`` header."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import APIKeyAuth, Auth, Clerk


def make_app(clerk: Clerk) -> FastAPI:
    """``GET /any`` accepts every token type and says what it saw."""
    app = FastAPI()
    clerk.install(app)

    @app.get("/any")
    async def any_route(auth: object = Depends(Auth(accepts="any"))) -> dict[str, Any]:
        return {
            "type": getattr(auth, "token_type", ""),
            "sub": getattr(auth, "subject", ""),
            "scoped": getattr(auth, "scoped_to_receiver", None),
        }

    return app


def api_key_app(clerk: Clerk) -> FastAPI:
    """``GET /k`` accepts API keys only."""
    app = FastAPI()
    clerk.install(app)

    @app.get("/k")
    async def k(auth: Annotated[APIKeyAuth, Depends(Auth(accepts="api_key"))]) -> dict[str, str]:
        return {"subject": auth.subject}

    return app


def client_for(
    app: Any,
    *,
    client: tuple[str, int] | None = None,
    auth: httpx.Auth | None = None,
    base_url: str = "http://t",
) -> httpx.AsyncClient:
    """An in-process client for ``app`` (``client``: the peer address the app sees)."""
    transport = (
        httpx.ASGITransport(app=app)
        if client is None
        else httpx.ASGITransport(app=app, client=client)
    )
    return httpx.AsyncClient(transport=transport, base_url=base_url, auth=auth)


def client(clerk: Clerk) -> httpx.AsyncClient:
    """A client for ``make_app(clerk)``."""
    return client_for(make_app(clerk), base_url="http://app")


async def get(app: FastAPI, token: str) -> httpx.Response:
    """One ``GET /any`` with ``token``."""
    async with client_for(app, base_url="http://app") as c:
        return await c.get("/any", headers=bearer(token))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
