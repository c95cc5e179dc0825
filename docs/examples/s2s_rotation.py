"""Step 4: rotating a machine's secret key, and revoking a token, with no failed request."""

import httpx

from clerk_fastapi import Clerk
from clerk_fastapi import ClerkM2MAuth


async def rotate(admin: Clerk, machine_id: str) -> str:
    """The old key keeps working for 10 minutes: deploy the new one to service A meanwhile.
    Tokens created with the old key stay valid until they expire."""
    new_key = await admin.machines.rotate_secret_key(machine_id, previous_token_ttl=600)
    return new_key.secret


async def revoke_current_token(admin: Clerk, auth: ClerkM2MAuth) -> None:
    """Cut off the token service A holds. A's next request gets a 401 from B, then A creates
    a new token (once, for all its concurrent requests) and retries that request."""
    assert auth.token_id is not None
    await admin.m2m.revoke(auth.token_id, revocation_reason="suspected leak")


if __name__ == "__main__":
    import asyncio

    from s2s_service_b import create_service_b

    from clerk_fastapi.testing import FakeClerk, FrozenClock

    async def main() -> None:
        clock = FrozenClock()
        fake = FakeClerk(clock=clock)
        admin = fake.clerk()
        a, b = fake.machines_that_talk()
        service_b = create_service_b(
            fake.clerk(machine_secret_key=b.secret_key, machine_id=b.id), a_machine_id=a.id
        )
        transport = httpx.ASGITransport(app=service_b)
        auth = fake.clerk(machine_secret_key=a.secret_key).m2m.auth()
        async with httpx.AsyncClient(transport=transport, base_url="http://b.localhost", auth=auth) as b_api:
            assert (await b_api.post("/invoices/rebuild")).status_code == 200
            await revoke_current_token(admin, auth)
            assert (await b_api.post("/invoices/rebuild")).status_code == 200  # renewed, retried
            assert fake.hits["m2m_create"] == 2

            new_key = await rotate(admin, a.id)
            clock.advance(601)  # the old key has stopped working; A's token has not
            assert (await b_api.post("/invoices/rebuild")).status_code == 200
        rotated = fake.clerk(machine_secret_key=new_key).m2m.auth()
        async with httpx.AsyncClient(transport=transport, base_url="http://b.localhost", auth=rotated) as c:
            assert (await c.post("/invoices/rebuild")).status_code == 200
        print("rotation ok")

    asyncio.run(main())
