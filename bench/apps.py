"""The apps under load (uvicorn, one worker), chosen by ``BENCH_APP``. Each serves ``GET /s``.

- ``noauth``: no dependency (the ceiling).
- ``header``: a dependency that only reads the ``Authorization`` header.
- ``pyjwt``: a hand-written PyJWT dependency with a key built once at start-up (``BENCH_JWK``).
- ``session``: ``Depends(Auth())``.
- ``any``: ``Depends(Auth(accepts="any"))``.
- ``scoped``: ``Security(Auth(accepts=[session, oauth]), scopes=["read"])``.

Ours are ``FastAPI(lifespan=clerk.lifespan)`` with ``Clerk()`` read from ``CLERK_*`` (the fake
Clerk on loopback); ``GET /_bench/stats`` says how many verifications ran (not timed).
"""

from __future__ import annotations

import json
import os
from typing import Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, Security

from clerk_fastapi import Auth, Clerk

SCOPED_ACCEPTS = ["session_token", "oauth_token"]
SCOPES = ["read"]


def _plain(kind: str) -> FastAPI:
    app = FastAPI()
    if kind == "noauth":

        @app.get("/s")
        async def noauth() -> dict[str, str]:
            return {"user_id": "anonymous"}

    elif kind == "header":

        async def header_only(request: Request) -> str:
            return request.headers.get("authorization", "")

        @app.get("/s")
        async def header(value: str = Depends(header_only)) -> dict[str, str]:
            return {"user_id": value[-8:]}

    elif kind == "pyjwt":
        key = jwt.PyJWK(json.loads(os.environ["BENCH_JWK"]))

        async def pyjwt_user(request: Request) -> dict[str, Any]:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise HTTPException(401)
            try:
                return jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
            except jwt.PyJWTError:
                raise HTTPException(401) from None

        @app.get("/s")
        async def pyjwt_route(claims: dict[str, Any] = Depends(pyjwt_user)) -> dict[str, str]:
            return {"user_id": claims["sub"]}

    else:
        raise SystemExit(f"unknown BENCH_APP {kind!r}")
    return app


def create_app() -> FastAPI:
    kind = os.environ.get("BENCH_APP", "noauth")
    if kind in ("noauth", "header", "pyjwt"):
        return _plain(kind)
    clerk = Clerk()
    app = FastAPI(lifespan=clerk.lifespan)

    if kind == "session":

        @app.get("/s")
        async def session(user: Any = Depends(Auth())) -> dict[str, str]:
            return {"user_id": user.user_id}

    elif kind == "any":

        @app.get("/s")
        async def any_type(user: Any = Depends(Auth(accepts="any"))) -> dict[str, str]:
            return {"user_id": user.user_id}

    elif kind == "scoped":

        @app.get("/s")
        async def scoped(
            user: Any = Security(Auth(accepts=SCOPED_ACCEPTS), scopes=SCOPES),
        ) -> dict[str, str]:
            return {"user_id": user.user_id}

    else:
        raise SystemExit(f"unknown BENCH_APP {kind!r}")

    @app.get("/_bench/stats")
    async def stats() -> dict[str, int]:
        return {"verifications": clerk.authenticator.verifications}

    return app
