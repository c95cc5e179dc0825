"""In-process rows: cold verification per call (rows 2 and 3) and eviction (row 7).

"Cold" means a token this ``Clerk`` has never seen: every repetition builds fresh instances
(JWKS warmed with another token) and sends a slice of the pool, so nothing is cached and no
cache needs clearing inside the timed loop. Every contender verifies the same tokens.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Coroutine
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi.security import SecurityScopes
from starlette.requests import Request

from clerk_fastapi import Auth, Clerk
from clerk_fastapi.jose.compact import b64url_decode
from clerk_fastapi.testing import FakeClerk

COLD = (
    "rsa_floor",  # cryptography's verify alone, signature pre-decoded
    "pyjwt_decode",  # jwt.decode with a pre-built PyJWK
    "auth_dependency",  # await Auth(clerk=...)(request=..., security_scopes=...)
    "authenticate_token",  # await clerk.authenticate_token(token)
)


def _request(token: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/s",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
    )


def _timed(fn: Callable[[], None], n: int) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) / n * 1e6


def _contenders(
    loop: asyncio.AbstractEventLoop,
    tokens: list[str],
    *,
    public: Any,
    pyjwk: jwt.PyJWK,
    dep_clerk: Clerk,
    tok_clerk: Clerk,
) -> dict[str, Callable[[], None]]:
    """One batch over ``tokens`` per contender; inputs each needs are prepared here, untimed."""
    pairs = []
    for token in tokens:
        head, _, signature = token.rpartition(".")
        pairs.append((b64url_decode(signature), head.encode()))
    requests = [_request(t) for t in tokens]
    scopes = SecurityScopes()
    auth = Auth(clerk=dep_clerk)

    def floor() -> None:
        pad, sha = padding.PKCS1v15(), hashes.SHA256()
        for signature, message in pairs:
            public.verify(signature, message, pad, sha)

    def pyjwt_decode() -> None:
        for token in tokens:
            jwt.decode(token, pyjwk, algorithms=["RS256"], options={"verify_aud": False})

    async def dependency() -> None:
        for request in requests:
            await auth(request=request, security_scopes=scopes)

    async def authenticate() -> None:
        for token in tokens:
            await tok_clerk.authenticate_token(token)

    def sync(coro: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
        return lambda: loop.run_until_complete(coro())

    return {
        "rsa_floor": floor,
        "pyjwt_decode": pyjwt_decode,
        "auth_dependency": sync(dependency),
        "authenticate_token": sync(authenticate),
    }


def cold_calls(fake: FakeClerk, pool: list[str], reps: int, n: int) -> dict[str, list[float]]:
    """Microseconds per cold call for each contender, one value per repetition (interleaved)."""
    public = fake.signing_key.private_key.public_key()
    pyjwk = jwt.PyJWK(fake.signing_key.public_jwk())
    warm = pool[-1]
    runs: dict[str, list[float]] = {name: [] for name in COLD}
    loop = asyncio.new_event_loop()
    try:
        for rep in range(reps):
            start = (rep * n) % max(1, len(pool) - 1 - n)
            tokens = pool[start : start + n]
            dep_clerk, tok_clerk = fake.clerk(), fake.clerk()
            for clerk in (dep_clerk, tok_clerk):
                state = loop.run_until_complete(clerk.authenticate_token(warm))
                assert state.status == "signed-in", state.reason

            contenders = _contenders(
                loop, tokens, public=public, pyjwk=pyjwk, dep_clerk=dep_clerk, tok_clerk=tok_clerk
            )
            order = list(COLD)
            order = order[rep % len(order) :] + order[: rep % len(order)]  # rotate the order
            for name in order:
                runs[name].append(round(_timed(contenders[name], n), 2))
            # Every call above was a real verification, and every one succeeded.
            assert dep_clerk.authenticator.verifications == n + 1
            assert tok_clerk.authenticator.verifications == n + 1
            last = loop.run_until_complete(tok_clerk.authenticate_token(tokens[-1]))
            assert last.status == "signed-in" and last.source == "cache", last.reason
    finally:
        loop.close()
    return runs


def eviction(
    fake: FakeClerk, hot: str, one_offs: list[str], every: int, **settings: Any
) -> dict[str, Any]:
    """A hot token sent every ``every`` requests among one-off tokens: how often it is verified."""
    clerk = fake.clerk(**settings)
    loop = asyncio.new_event_loop()
    hot_sent = hot_verified = 0
    sent = 0

    async def flood() -> None:
        nonlocal hot_sent, hot_verified, sent
        for token in one_offs:
            if sent % every == 0:
                state = await clerk.authenticate_token(hot)
                assert state.status == "signed-in", state.reason
                hot_sent += 1
                hot_verified += state.source == "verified"
                sent += 1
            state = await clerk.authenticate_token(token)
            assert state.status == "signed-in", state.reason
            sent += 1

    started = time.perf_counter()
    try:
        loop.run_until_complete(flood())
    finally:
        loop.close()
    reverified = hot_verified - 1  # the first request verifies it in any policy
    return {
        "cache_bound": clerk.settings.session_cache_size,
        "every": every,
        "requests": sent,
        "one_off_tokens": len(one_offs),
        "hot_sent": hot_sent,
        "hot_verified": hot_verified,
        "hot_reverified": reverified,
        "seconds": round(time.perf_counter() - started, 2),
    }
