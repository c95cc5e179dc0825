"""Step 2: service B, the API. CLERK_SECRET_KEY, and its own machine's CLERK_MACHINE_SECRET_KEY
and CLERK_MACHINE_ID."""

from typing import Any

from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk, M2MAuth


def create_service_b(clerk: Clerk, *, a_machine_id: str) -> FastAPI:
    app = FastAPI(lifespan=clerk.lifespan)
    b_machine_id = clerk.settings.machine_id
    assert b_machine_id is not None

    # Any machine whose tokens name B in their scopes (a scope A -> B was granted)...
    callers_of_b = Auth(accepts="m2m_token", scopes=[b_machine_id])
    # ...or exactly the machines listed here.
    only_nightly_jobs = Auth(accepts="m2m_token", machines=[a_machine_id])

    @app.post("/invoices/rebuild")
    async def rebuild(caller: M2MAuth = Depends(only_nightly_jobs)) -> dict[str, Any]:
        return {"rebuilt_for": caller.machine_id}

    @app.get("/invoices/count")
    async def count(caller: M2MAuth = Depends(callers_of_b)) -> dict[str, Any]:
        return {"count": 42, "caller": caller.machine_id, "scoped": caller.scoped_to_receiver}

    return app


if __name__ == "__main__":
    import asyncio

    import httpx

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()
        a, b = fake.machines_that_talk()  # the testing kit's one-liner for step 1
        c = fake.add_machine("stranger")  # a machine with no scope to B
        service_b = create_service_b(
            fake.clerk(machine_secret_key=b.secret_key, machine_id=b.id), a_machine_id=a.id
        )
        transport = httpx.ASGITransport(app=service_b)
        for machine, expected in ((a, 200), (c, 403)):
            token = (await fake.clerk(machine_secret_key=machine.secret_key).m2m.create()).token
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                assert (await client.post("/invoices/rebuild", headers=headers)).status_code == (
                    expected
                )
                assert (await client.get("/invoices/count", headers=headers)).status_code == (
                    expected
                )
        print("service b ok")

    asyncio.run(main())
