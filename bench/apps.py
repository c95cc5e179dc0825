"""The apps under load (uvicorn, one worker), chosen by ``BENCH_APP``. Each serves ``GET /s``.

- ``noauth``: no dependency (the ceiling).
- ``header``: a dependency that only reads the ``Authorization`` header.
- ``pyjwt``: a hand-written PyJWT dependency with a key built once at start-up (``BENCH_JWK``).
- ``rsa``: the header read plus one RSA verify of the token's signature and nothing else (no
  header, no claims): the floor of any verifying app (``bench/inserver.py`` only).
- ``session``: ``Depends(Auth())``.
- ``any``: ``Depends(Auth(accepts="any"))``.
- ``scoped``: ``Security(Auth(accepts=[session, oauth]), scopes=["read"])``.

Ours are ``FastAPI(lifespan=clerk.lifespan)`` with ``Clerk()`` read from ``CLERK_*`` (the fake
Clerk on loopback); ``GET /_bench/stats`` says how many verifications ran (not timed).

``BENCH_PROFILE=1`` (``bench/inserver.py``): the server accounts for its own CPU time: inside the
authentication dependency, in the garbage collector (inside authentication and elsewhere), and
in all; ``POST /_bench/profile/reset`` starts over, ``GET /_bench/profile`` reports.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi import Depends, FastAPI, HTTPException, Request, Security

from clerk_fastapi import Auth, Clerk

SCOPED_ACCEPTS = ["session_token", "oauth_token"]
SCOPES = ["read"]
T = TypeVar("T")


class Profile:
    """CPU time (``time.thread_time``: time the server is descheduled does not count) spent
    inside authentication, in the garbage collector, and by the whole process."""

    def __init__(self) -> None:
        self.reset()
        self._gc_started = 0.0
        gc.callbacks.append(self._collection)

    def reset(self) -> None:
        self.requests = 0
        self.auth = 0.0
        self.gc = 0.0
        self.gc_in_auth = 0.0
        self.collections = [0, 0, 0]
        self.in_auth = False
        self.cpu_started = time.process_time()

    def _collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.thread_time()
            return
        spent = time.thread_time() - self._gc_started
        self.gc += spent
        if self.in_auth:
            self.gc_in_auth += spent
        self.collections[info["generation"]] += 1

    async def timed(self, call: Callable[[], Awaitable[T]]) -> T:
        self.requests += 1
        self.in_auth = True
        started = time.thread_time()
        try:
            return await call()
        finally:
            self.auth += time.thread_time() - started
            self.in_auth = False

    def report(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "cpu_s": time.process_time() - self.cpu_started,
            "auth_s": self.auth,
            "gc_s": self.gc,
            "gc_in_auth_s": self.gc_in_auth,
            "collections": self.collections,
        }


PROFILE = Profile() if os.environ.get("BENCH_PROFILE") == "1" else None


def _timed(dependency: Callable[[Request], Awaitable[T]]) -> Callable[[Request], Awaitable[T]]:
    """The dependency itself, unless profiling (then its CPU time is accounted for)."""
    if PROFILE is None:
        return dependency
    profile = PROFILE

    async def timed(request: Request) -> T:
        return await profile.timed(lambda: dependency(request))

    return timed


def _profiled(app: FastAPI) -> FastAPI:
    if PROFILE is not None:
        profile = PROFILE

        @app.post("/_bench/profile/reset")
        async def reset() -> None:
            profile.reset()

        @app.get("/_bench/profile")
        async def report() -> dict[str, Any]:
            return profile.report()

    return app


class TimedAuth(Auth):
    """``Auth``, its CPU time accounted for (only under ``BENCH_PROFILE=1``)."""

    async def __call__(self, **kwargs: Any) -> Any:
        assert PROFILE is not None
        return await PROFILE.timed(lambda: super(TimedAuth, self).__call__(**kwargs))


SessionAuthDependency = Auth if PROFILE is None else TimedAuth


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
        async def header(value: str = Depends(_timed(header_only))) -> dict[str, str]:
            return {"user_id": value[-8:]}

    elif kind == "rsa":
        public = jwt.PyJWK(json.loads(os.environ["BENCH_JWK"])).key
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

        async def rsa_only(request: Request) -> str:
            token = request.headers.get("authorization", "")[7:]
            signing_input, _, signature = token.rpartition(".")
            try:
                public.verify(
                    base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
                    signing_input.encode(),
                    pkcs1,
                    sha256,
                )
            except (InvalidSignature, ValueError):
                raise HTTPException(401) from None
            return token

        @app.get("/s")
        async def rsa_route(value: str = Depends(_timed(rsa_only))) -> dict[str, str]:
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
        async def pyjwt_route(
            claims: dict[str, Any] = Depends(_timed(pyjwt_user)),
        ) -> dict[str, str]:
            return {"user_id": claims["sub"]}

    else:
        raise SystemExit(f"unknown BENCH_APP {kind!r}")
    return _profiled(app)


def create_app() -> FastAPI:
    kind = os.environ.get("BENCH_APP", "noauth")
    if kind in ("noauth", "header", "rsa", "pyjwt"):
        return _plain(kind)
    clerk = Clerk()
    app = FastAPI(lifespan=clerk.lifespan)

    if kind == "session":

        @app.get("/s")
        async def session(user: Any = Depends(SessionAuthDependency())) -> dict[str, str]:
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

    return _profiled(app)
