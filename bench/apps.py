"""Our apps for the whole-app runs (uvicorn, one worker), chosen by BENCH_APP."""

from __future__ import annotations

import os
from typing import Any

from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk


def create_app() -> FastAPI:
    kind = os.environ.get("BENCH_APP", "noauth")
    app = FastAPI()
    if kind == "noauth":

        @app.get("/s")
        async def noauth() -> dict[str, str]:
            return {"user_id": "anonymous"}

        return app
    clerk = Clerk()  # CLERK_* from the environment: the fake Clerk
    app.state.clerk = clerk
    auth = Auth(accepts="any") if kind in ("any", "opaque") else Auth()
    if kind == "three":
        a, b = Auth(), Auth(accepts=["session_token", "api_key"])

        async def nested(user: Any = Depends(b)) -> str:
            return str(user.user_id)

        @app.get("/s")
        async def three(
            x: Any = Depends(auth), y: Any = Depends(a), z: str = Depends(nested)
        ) -> dict[str, str]:
            return {"user_id": x.user_id}

        return app

    @app.get("/s")
    async def route(user: Any = Depends(auth)) -> dict[str, str]:
        return {"user_id": getattr(user, "user_id", None) or user.subject}

    return app
