"""Where a cold session verification's time goes, stage by stage, and what a whole request costs
in-process (no server, no load generator) for each app.

``stages``: the steps ``Authenticator._authenticate_token`` takes for a header session token
the ``Clerk`` has never seen, each timed on its own over the same fresh tokens, in the
pipeline's order and with the pipeline's own functions. Their sum is printed beside the whole
call (``clerk.authenticate_token``) as a check that nothing is left out: the difference is the
pipeline's own glue. The RSA verify is also timed alone inside the signature step, on the key
object the step uses.

``requests``: one whole ASGI request through each bench app, called in-process with a fresh
token per request. Inside an app the same RSA verify and parsing cost more than in a tight loop
(the framework's work between two verifications evicts their code and data from the CPU
caches); ``rsa_in_app_us`` measures the verify there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from typing import Any

from clerk_fastapi.auth.accepts import normalize_accepts
from clerk_fastapi.jose import claims as jwt_claims
from clerk_fastapi.jose.keys import VerificationKey
from clerk_fastapi.jose.verify import verify_signature
from clerk_fastapi.kinds._jwt import cache_until, kid_of, parsed
from clerk_fastapi.kinds.base import token_digest
from clerk_fastapi.kinds.session import SessionVerifier, session_auth_from_claims
from clerk_fastapi.principals import Verified
from clerk_fastapi.testing import FakeClerk

STAGES = (
    "hash the token (SHA-256)",
    "result cache lookup (a miss)",
    "classify: split, base64url, strict JSON",
    "signature step without the RSA verify: key lookup, header checks",
    "RSA verify (cryptography)",
    "claim checks (sub, aud, azp, iss, exp, nbf, iat)",
    "principal (SessionAuth from the claims)",
    "result (expiry, kid, compact form)",
    "cache insert",
    "RequestState",
)


def stages(fake: FakeClerk, tokens: list[str], reps: int) -> dict[str, Any]:
    """Microseconds per call for each stage (the repetition with the smallest total)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_stages(fake, tokens, reps))
    finally:
        loop.close()


async def _stages(fake: FakeClerk, tokens: list[str], reps: int) -> dict[str, Any]:
    clerk = fake.clerk()
    authenticator = clerk.authenticator
    registry = authenticator.registry
    verifier = registry.get("session_token")
    assert isinstance(verifier, SessionVerifier)
    settings = authenticator.settings
    spec = normalize_accepts("session_token")
    rsa = [0]
    original_verify = VerificationKey.verify

    def timed_verify(key: VerificationKey, signing_input: bytes, signature: bytes) -> bool:
        started = time.perf_counter_ns()
        ok = original_verify(key, signing_input, signature)
        rsa[0] += time.perf_counter_ns() - started
        return ok

    warm = await clerk.authenticate_token(fake.session_token("user_warm", expires_in=3600))
    assert warm.status == "signed-in", warm.reason
    clock = time.perf_counter_ns
    best: list[int] | None = None
    for _ in range(reps):
        authenticator.clear()
        totals = [0] * len(STAGES)
        rsa[0] = 0
        VerificationKey.verify = timed_verify  # type: ignore[assignment, method-assign]
        try:
            for token in tokens:
                t = [clock()]
                digest = token_digest(token)
                t.append(clock())
                assert authenticator.store.peek(digest) is None
                t.append(clock())
                credential = registry.classify(token, digest)
                assert spec.allows(credential.token_type)
                t.append(clock())
                jws = parsed(credential)
                await verify_signature(
                    jws, verifier._resolve_kid, allowed_typ=("JWT",), typ_optional=True
                )
                t.append(clock())
                payload, now = jws.payload, clerk.clock()
                jwt_claims.check_subject(payload)
                jwt_claims.check_audience(payload, settings.audience)
                jwt_claims.check_authorized_party(payload, settings.authorized_parties)
                jwt_claims.check_issuer(payload, settings.issuer)
                exp = jwt_claims.check_times(payload, now, settings.clock_skew)
                t.append(clock())
                principal = session_auth_from_claims(payload)
                t.append(clock())
                verified = Verified(
                    principal, cache_until(exp, now), kid=kid_of(jws), compact=jws.payload_raw
                )
                t.append(clock())
                await authenticator.store.put_verified(digest, verified)
                t.append(clock())
                authenticator.outcomes.signed_in(
                    "session_token", verified, digest.hex()[:12], "verified"
                )
                t.append(clock())
                # t[4] - t[3] holds the RSA verify too: it is reported as its own stage.
                for index, stage in enumerate((0, 1, 2, 3, 5, 6, 7, 8, 9)):
                    totals[stage] += t[index + 1] - t[index]
        finally:
            VerificationKey.verify = original_verify  # type: ignore[assignment, method-assign]
        totals[3] -= rsa[0]
        totals[4] = rsa[0]
        if best is None or sum(totals) < sum(best):
            best = totals
    assert best is not None
    per_call = {
        name: round(ns / len(tokens) / 1000, 2) for name, ns in zip(STAGES, best, strict=True)
    }

    whole: list[float] = []
    for _ in range(reps):
        authenticator.clear()
        started = time.perf_counter()
        for token in tokens:
            await clerk.authenticate_token(token)
        whole.append((time.perf_counter() - started) / len(tokens) * 1e6)
    stage_sum = round(sum(per_call.values()), 2)
    return {
        "calls": len(tokens),
        "stages_us": per_call,
        "sum_of_stages_us": stage_sum,
        "authenticate_token_us": round(min(whole), 2),
        "glue_us": round(min(whole) - stage_sum, 2),
    }


# -- whole requests, in-process -------------------------------------------------------------------


def _scope(app: Any, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/s",
        "raw_path": b"/s",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": app,
    }


async def _call(app: Any, token: str) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(app, token), receive, send)
    assert sent[0]["status"] == 200, sent[0]


def requests(fake: FakeClerk, clerk_url: str, tokens: list[str], reps: int) -> dict[str, Any]:
    """Microseconds per whole request for each app (fresh tokens), medians over ``reps``."""
    from bench import apps as bench_apps

    saved = dict(os.environ)
    os.environ.update(
        {
            "CLERK_API_URL": clerk_url,
            "CLERK_SECRET_KEY": fake.secret_key,
            "BENCH_JWK": json.dumps(fake.signing_key.public_jwk()),
        }
    )
    built = {}
    try:
        for name in ("noauth", "header", "pyjwt", "session"):
            os.environ["BENCH_APP"] = name
            built[name] = bench_apps.create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_requests(built, tokens, reps))
    finally:
        loop.close()


async def _requests(built: dict[str, Any], tokens: list[str], reps: int) -> dict[str, Any]:
    per_app: dict[str, list[float]] = {name: [] for name in built}
    rsa = [0, 0]
    original_verify = VerificationKey.verify

    def timed_verify(key: VerificationKey, signing_input: bytes, signature: bytes) -> bool:
        started = time.perf_counter_ns()
        ok = original_verify(key, signing_input, signature)
        rsa[0] += time.perf_counter_ns() - started
        rsa[1] += 1
        return ok

    async with contextlib.AsyncExitStack() as stack:
        session = built["session"]
        await stack.enter_async_context(session.router.lifespan_context(session))
        for app in built.values():
            await _call(app, tokens[0])
        chunk = max(1, (len(tokens) - 1) // (reps * len(built)))
        offset = 1
        for rep in range(reps):
            names = list(built)
            names = names[rep % len(names) :] + names[: rep % len(names)]
            for name in names:
                batch = tokens[offset : offset + chunk]
                offset += chunk
                if name == "session":
                    VerificationKey.verify = timed_verify  # type: ignore[assignment, method-assign]
                try:
                    started = time.perf_counter()
                    for token in batch:
                        await _call(built[name], token)
                    per_app[name].append((time.perf_counter() - started) / len(batch) * 1e6)
                finally:
                    VerificationKey.verify = original_verify  # type: ignore[assignment, method-assign]
    medians = {name: round(sorted(v)[len(v) // 2], 1) for name, v in per_app.items()}
    return {
        "requests_per_app": chunk * reps,
        "request_us": medians,
        "auth_us": {
            "pyjwt": round(medians["pyjwt"] - medians["header"], 1),
            "session": round(medians["session"] - medians["header"], 1),
        },
        "rsa_in_app_us": round(rsa[0] / max(1, rsa[1]) / 1000, 1),
    }
