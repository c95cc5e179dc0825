"""Opaque tokens are revoked instantly; JWT tokens cannot be revoked and live until ``exp``."""

from clerk_fastapi import Clerk, TokenVerificationError


async def is_valid(clerk: Clerk, token: str) -> bool:
    try:
        await clerk.m2m.verify(token)  # opaque: asks Clerk; JWT: checked locally
    except TokenVerificationError:
        return False
    return True


async def demo(service_a: Clerk, service_b: Clerk) -> None:
    opaque = await service_a.m2m.create(seconds_until_expiration=3600)
    jwt = await service_a.m2m.create(seconds_until_expiration=60, token_format="jwt")
    assert opaque.token is not None and jwt.token is not None
    assert await is_valid(service_b, opaque.token) and await is_valid(service_b, jwt.token)

    revoked = await service_a.m2m.revoke(opaque.id, revocation_reason="key rotation")
    assert revoked.revoked and revoked.revocation_reason == "key rotation"
    assert not await is_valid(service_b, opaque.token)  # refused from now on
    assert await is_valid(service_b, jwt.token)  # still valid: keep JWT lifetimes short


if __name__ == "__main__":
    import asyncio

    from clerk_fastapi.testing import FakeClerk, FrozenClock

    async def main() -> None:
        clock = FrozenClock()
        fake = FakeClerk(clock=clock)
        service_a = fake.clerk(machine_secret_key=fake.machine_secret_key)
        service_b = fake.clerk()
        await demo(service_a, service_b)
        jwt = await service_a.m2m.create(seconds_until_expiration=60, token_format="jwt")
        assert jwt.token is not None
        clock.advance(66)  # past exp and the 5 s clock skew
        assert not await is_valid(service_b, jwt.token)
        verified_by_clerk = fake.hits["m2m_verify"]
        print(f"m2m revocation ok ({verified_by_clerk} opaque verifications sent to Clerk)")

    asyncio.run(main())
