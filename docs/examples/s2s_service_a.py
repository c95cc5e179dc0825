"""Step 3: service A, the caller. Its machine's CLERK_MACHINE_SECRET_KEY is all it needs (add
CLERK_SECRET_KEY if it also protects routes of its own): clerk.lifespan starts without it."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from clerk_fastapi import Clerk


def create_service_a(clerk: Clerk, b_url: str, transport: Any = None) -> FastAPI:
    # One token for every request, renewed shortly before it expires and after a 401.
    auth = clerk.m2m.auth(seconds_until_expiration=3600, claims={"service": "nightly-jobs"})

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with clerk.lifespan(app), httpx.AsyncClient(
            base_url=b_url, auth=auth, transport=transport
        ) as service_b:
            app.state.service_b = service_b
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/jobs/rebuild")
    async def rebuild() -> dict[str, Any]:
        answer = await app.state.service_b.post("/invoices/rebuild")
        answer.raise_for_status()
        return {"b_says": answer.json()}

    return app


if __name__ == "__main__":
    import asyncio

    from s2s_service_b import create_service_b

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()
        a, b = fake.machines_that_talk()
        service_b = create_service_b(
            fake.clerk(machine_secret_key=b.secret_key, machine_id=b.id), a_machine_id=a.id
        )
        # Caller only: no CLERK_SECRET_KEY, just the machine secret key.
        service_a = create_service_a(
            fake.clerk(secret_key=None, machine_secret_key=a.secret_key),
            "http://b",
            transport=httpx.ASGITransport(app=service_b),
        )
        async with service_a.router.lifespan_context(service_a), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service_a), base_url="http://a"
        ) as client:
            answers = await asyncio.gather(*(client.post("/jobs/rebuild") for _ in range(20)))
        assert {r.json()["b_says"]["rebuilt_for"] for r in answers} == {a.id}
        assert fake.hits["m2m_create"] == 1  # 20 calls, one token
        print("service a ok")

    asyncio.run(main())
