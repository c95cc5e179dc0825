"""Step 1: create two machines and let A call B (run once, from an admin script or a shell)."""

from clerk_fastapi import Clerk


async def create_machines(admin: Clerk) -> dict[str, str]:
    """``admin`` has the instance secret key (CLERK_SECRET_KEY)."""
    b = await admin.machines.create(name="invoices-api")
    a = await admin.machines.create(name="nightly-jobs", scoped_machines=[b.id])
    # Or, for machines that exist: await admin.machines.create_scope(a.id, b.id)
    assert a.secret_key and b.secret_key  # shown only in this answer: store them now
    return {
        "A_MACHINE_ID": a.id,
        "A_MACHINE_SECRET_KEY": a.secret_key,  # service A's CLERK_MACHINE_SECRET_KEY
        "B_MACHINE_ID": b.id,  # service B's CLERK_MACHINE_ID
        "B_MACHINE_SECRET_KEY": b.secret_key,  # service B's CLERK_MACHINE_SECRET_KEY
    }


if __name__ == "__main__":
    import asyncio

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()  # stands in for Clerk: no network, no account
        admin = fake.clerk()
        env = await create_machines(admin)
        a = await admin.machines.get(env["A_MACHINE_ID"])
        assert a.scoped_machine_ids == [env["B_MACHINE_ID"]]  # A may call B, not the reverse
        print("machines ok")

    asyncio.run(main())
