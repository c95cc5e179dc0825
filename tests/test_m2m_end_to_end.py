"""Service A creates M2M tokens with clerk.m2m; service B's route accepts them."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, M2MAuth
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio


async def test_create_call_revoke() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    service_a = fake.clerk(machine_secret_key=fake.machine_secret_key)
    service_b = FastAPI()
    service_b.state.clerk = fake.clerk()

    @service_b.post("/jobs")
    async def jobs(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
    ) -> dict[str, str]:
        return {"machine": caller.machine_id}

    opaque = await service_a.m2m.create(seconds_until_expiration=600)
    jwt = await service_a.m2m.create(seconds_until_expiration=600, token_format="jwt")
    assert opaque.token and opaque.token.startswith("mt_")
    assert jwt.token and jwt.token.count(".") == 2
    transport = httpx.ASGITransport(app=service_b)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:

        async def call(token: str) -> int:
            response = await client.post("/jobs", headers={"Authorization": f"Bearer {token}"})
            return response.status_code

        assert await call(opaque.token) == 200
        assert await call(jwt.token) == 200
        await service_a.m2m.revoke(opaque.id, revocation_reason="rotated")
        assert await call(opaque.token) == 401  # revocation is instant for opaque tokens
        assert await call(jwt.token) == 200  # a JWT stays valid until it expires
        clock.advance(606)  # past exp plus the 5 s clock skew
        assert await call(jwt.token) == 401
