"""The app the fleet test runs under ``uvicorn --workers 4``: settings come from CLERK_*."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk

clerk = Clerk()
app = FastAPI(lifespan=clerk.lifespan)


@app.get("/any")
async def any_route(auth: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
    return {"type": auth.token_type, "pid": str(__import__("os").getpid())}
