"""Service A gets an M2M token from Clerk and calls service B, whose route accepts m2m_token."""

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk, M2MAuth


# --- service B: the API. It needs only CLERK_SECRET_KEY.
def create_service_b(clerk: Clerk) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)

    @app.post("/invoices/rebuild")
    async def rebuild(
        caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))],
    ) -> dict[str, str]:
        return {"rebuilt_for": caller.machine_id}

    return app


# --- service A: the caller. It holds its machine's CLERK_MACHINE_SECRET_KEY.
async def call_service_b(service_a: Clerk, service_b: httpx.AsyncClient) -> int:
    created = await service_a.m2m.create(
        seconds_until_expiration=300,
        min_remaining_ttl_seconds=60,  # reuse a live token rather than mint one per call
        claims={"job": "nightly-rebuild"},
    )
    assert created.token is not None  # the credential; Clerk shows it only now
    response = await service_b.post(
        "/invoices/rebuild", headers={"Authorization": f"Bearer {created.token}"}
    )
    return response.status_code


if __name__ == "__main__":
    import asyncio

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()  # stands in for Clerk: no network, no account
        service_a = fake.clerk(machine_secret_key=fake.machine_secret_key)
        transport = httpx.ASGITransport(app=create_service_b(fake.clerk()))
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            assert await call_service_b(service_a, client) == 200
            assert await call_service_b(service_a, client) == 200
        page = await service_a.m2m.list(subject=fake.default_machine_id)
        assert page.total_count == 1  # the second call reused the first token
        print("m2m services ok")

    asyncio.run(main())
