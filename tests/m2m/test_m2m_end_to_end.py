"""Service A creates M2M tokens with clerk.m2m; service B's route accepts them.

Revocation: an opaque token is refused as soon as it is revoked (service B asks Clerk on every
request: the opaque-result cache is off by default); a JWT one cannot be revoked and stays valid
until it expires.
"""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, ClerkAPIError, M2MAuth
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio


def service_b(fake: FakeClerk) -> FastAPI:
    app = FastAPI()
    fake.clerk().install(app)  # service B only has the instance secret key

    @app.post("/jobs")
    async def jobs(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
    ) -> dict[str, object]:
        return {"machine": caller.machine_id, "claims": caller.claims}

    return app


async def test_create_call_revoke() -> None:
    clock = FrozenClock()
    fake = FakeClerk(clock=clock)
    service_a = fake.clerk(machine_secret_key=fake.machine_secret_key)
    opaque = await service_a.m2m.create(seconds_until_expiration=600, claims={"job": "nightly"})
    jwt = await service_a.m2m.create(seconds_until_expiration=600, token_format="jwt")
    assert opaque.token and opaque.token.startswith("mt_")
    assert jwt.token and jwt.token.count(".") == 2
    transport = httpx.ASGITransport(app=service_b(fake))
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:

        async def call(token: str) -> httpx.Response:
            return await client.post("/jobs", headers={"Authorization": f"Bearer {token}"})

        first = await call(opaque.token)
        assert first.status_code == 200
        assert first.json() == {"machine": fake.default_machine_id, "claims": {"job": "nightly"}}
        assert fake.hits["m2m_verify"] == 1  # opaque: Clerk verified it
        assert (await call(jwt.token)).status_code == 200
        assert fake.hits["m2m_verify"] == 1  # JWT: verified locally with the JWKS

        await service_a.m2m.revoke(opaque.id, revocation_reason="rotated")
        refused = await call(opaque.token)
        assert refused.status_code == 401  # revocation is instant for opaque tokens
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        with pytest.raises(ClerkAPIError):
            await service_a.m2m.revoke(jwt.id)  # Clerk does not store JWT tokens
        assert (await call(jwt.token)).status_code == 200  # valid until it expires

        clock.advance(606)  # past exp plus the 5 s clock skew
        assert (await call(jwt.token)).status_code == 401
        wrong_type = await service_a.api_keys.create(name="key", subject="user_" + "1" * 27)
        assert wrong_type.secret is not None and wrong_type.secret.startswith("ak_")
        assert (await call(wrong_type.secret)).status_code == 401  # an API key is not M2M
    machine = fake.default_machine_id
    listed = await service_a.m2m.list(subject=machine, revoked=True, expired=True)
    assert [t.id for t in listed.data] == [opaque.id]  # only the opaque one was stored
