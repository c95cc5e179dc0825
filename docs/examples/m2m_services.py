"""Service A gets an M2M token from Clerk and calls service B, whose route accepts m2m_token."""

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk, M2MAuth


def create_service_b(clerk: Clerk) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)

    @app.post("/invoices/rebuild")
    async def rebuild(caller: Annotated[M2MAuth, Depends(Auth(accepts="m2m_token"))]) -> dict[str, str]:
        return {"rebuilt_for": caller.machine_id}

    return app


async def call_service_b(service_a: Clerk, service_b: httpx.AsyncClient) -> int:
    # Service A holds a machine secret key (CLERK_MACHINE_SECRET_KEY).
    created = await service_a.m2m.create(seconds_until_expiration=300)
    assert created.token is not None
    response = await service_b.post(
        "/invoices/rebuild", headers={"Authorization": f"Bearer {created.token}"}
    )
    await service_a.m2m.revoke(created.id, revocation_reason="job done")
    return response.status_code


if __name__ == "__main__":
    import asyncio

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()
        service_a = fake.clerk(machine_secret_key=fake.machine_secret_key)
        app_b = create_service_b(fake.clerk())
        transport = httpx.ASGITransport(app=app_b)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            assert await call_service_b(service_a, client) == 200
        page = await service_a.m2m.list(revoked=True)
        assert page.total_count == 1 and page.data[0].revoked
        print("m2m services ok")

    asyncio.run(main())
