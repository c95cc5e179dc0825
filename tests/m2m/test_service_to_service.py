"""End to end on 127.0.0.1: the fake Clerk, service A and service B, each a real uvicorn server.

Machines are created and scoped through ``clerk.machines``; A calls B through
``clerk.m2m.auth()``; B accepts M2M tokens, verifying them with its own machine secret key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk, M2MAuth
from clerk_fastapi.backend.resources import Machine
from clerk_fastapi.m2m_auth import ClerkM2MAuth
from clerk_fastapi.testing import FakeClerk
from clerk_fastapi.testing.fake.server import serve_asgi

pytestmark = pytest.mark.anyio


def service_b(fake: FakeClerk, b: Machine, a: Machine) -> FastAPI:
    app = FastAPI()
    Clerk(fake.settings(machine_secret_key=b.secret_key, machine_id=b.id, http_timeout=60)).install(
        app
    )
    scoped_to_b = Auth(accepts="m2m_token", scopes=[b.id])  # the caller may call B
    only_a = Auth(accepts="m2m_token", machines=[a.id])  # and B takes calls from A only
    # (Depends as defaults: the Auth objects are locals, which string annotations cannot see.)

    @app.get("/work")
    async def work(caller: M2MAuth = Depends(scoped_to_b)) -> dict[str, Any]:
        return {"machine": caller.machine_id, "scoped_to_receiver": caller.scoped_to_receiver}

    @app.get("/from-a")
    async def from_a(caller: M2MAuth = Depends(only_a)) -> dict[str, Any]:
        return {"machine": caller.machine_id}

    return app


def service_a(auth: ClerkM2MAuth, b_url: str) -> FastAPI:
    app = FastAPI()
    clients: dict[str, httpx.AsyncClient] = {}

    @app.get("/call-b/{path}")
    async def call_b(path: str) -> dict[str, Any]:
        if "b" not in clients:  # created in the server's own event loop
            # Idle connections expire before uvicorn's 5 s keep-alive closes them under us.
            limits = httpx.Limits(keepalive_expiry=1)
            clients["b"] = httpx.AsyncClient(base_url=b_url, auth=auth, timeout=120, limits=limits)
        answer = await clients["b"].get(f"/{path}")
        return {"status": answer.status_code, "body": answer.json()}

    return app


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as servers:
        yield servers


async def test_a_calls_b_with_one_token_renewed_once_after_revocation(stack: ExitStack) -> None:
    fake = FakeClerk()
    fake.api_url = stack.enter_context(fake.serve())
    admin = Clerk(fake.settings())
    b = await admin.machines.create(name="service-b")
    a = await admin.machines.create(name="service-a")
    await admin.machines.create_scope(a.id, b.id)
    c = await admin.machines.create(name="service-c")  # no scope to B
    assert a.secret_key and b.secret_key and c.secret_key
    assert (await admin.machines.get(a.id)).scoped_machine_ids == [b.id]

    b_url = stack.enter_context(serve_asgi(service_b(fake, b, a)))
    a_clerk = Clerk(fake.settings(machine_secret_key=a.secret_key, http_timeout=60))
    auth = a_clerk.m2m.auth()
    a_url = stack.enter_context(serve_asgi(service_a(auth, b_url)))

    async def calls(n: int, path: str = "work") -> list[dict[str, Any]]:
        # A fresh client per batch: no idle keep-alive connection the server may be closing.
        limits = httpx.Limits(max_connections=n)
        async with httpx.AsyncClient(base_url=a_url, timeout=120, limits=limits) as client:
            answers = await asyncio.gather(*(client.get(f"/call-b/{path}") for _ in range(n)))
        assert {r.status_code for r in answers} == {200}
        return [r.json() for r in answers]

    first = await calls(200)
    assert {r["status"] for r in first} == {200}
    assert {r["body"]["machine"] for r in first} == {a.id}
    assert {r["body"]["scoped_to_receiver"] for r in first} == {True}
    assert fake.hits["m2m_create"] == 1  # 200 concurrent calls, one token
    assert fake.hits["m2m_verify"] >= 1  # B asked Clerk (concurrent checks coalesce)
    verify_keys = {r.headers["authorization"] for r in fake.requests if "verify" in r.path}
    assert verify_keys == {f"Bearer {b.secret_key}"}  # with B's own machine secret key

    revoked = auth.token_id
    await admin.m2m.revoke(str(revoked), revocation_reason="test")
    (after,) = await calls(1, "from-a")
    assert after == {"status": 200, "body": {"machine": a.id}}
    assert fake.hits["m2m_create"] == 2 and auth.token_id != revoked  # one renewal
    assert {r["status"] for r in await calls(100)} == {200}
    assert fake.hits["m2m_create"] == 2

    c_auth = Clerk(fake.settings(machine_secret_key=c.secret_key)).m2m.auth()
    async with httpx.AsyncClient(base_url=b_url, auth=c_auth, timeout=60) as as_c:
        unscoped = await as_c.get("/work")
        not_a = await as_c.get("/from-a")
    assert unscoped.status_code == 403
    assert unscoped.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{b.id}"'
    )
    assert not_a.status_code == 403
    assert 'error="insufficient_scope"' in not_a.headers["www-authenticate"]
    assert fake.hits["m2m_create"] == 3  # C's one token; a 403 is not retried
    await admin.aclose()
    await a_clerk.aclose()
