"""Issue, list and revoke a user's API keys; handle Clerk's errors."""

from clerk_fastapi import Clerk, ClerkAPIError, ClerkNetworkError, TokenVerificationError


async def issue_key(clerk: Clerk, user_id: str) -> tuple[str, str]:
    """Returns (key id, secret). Show the secret to the user once; store only the id."""
    key = await clerk.api_keys.create(
        name="CI pipeline",
        subject=user_id,
        scopes=["reports:read"],
        seconds_until_expiration=30 * 24 * 3600,
    )
    assert key.secret is not None
    return key.id, key.secret


async def key_owner(clerk: Clerk, secret: str) -> str | None:
    try:
        key = await clerk.api_keys.verify(secret)
    except TokenVerificationError:
        return None  # unknown, revoked or expired
    except (ClerkAPIError, ClerkNetworkError):
        raise  # Clerk refused our secret key, rate-limited us, or did not answer
    return key.subject


if __name__ == "__main__":
    import asyncio

    from clerk_fastapi.testing import FakeClerk

    async def main() -> None:
        fake = FakeClerk()
        clerk = fake.clerk()
        key_id, secret = await issue_key(clerk, "user_2Nw1sJ2fbn3hKP0cmh9L8yVZ4xk")
        assert await key_owner(clerk, secret) == "user_2Nw1sJ2fbn3hKP0cmh9L8yVZ4xk"

        page = await clerk.api_keys.list(subject="user_2Nw1sJ2fbn3hKP0cmh9L8yVZ4xk", limit=10)
        assert page.total_count == 1 and page.data[0].scopes == ["reports:read"]
        assert page.data[0].expiration_datetime is not None
        assert page.data[0].secret is None  # never listed

        await clerk.api_keys.revoke(key_id, revocation_reason="user request")
        assert await key_owner(clerk, secret) is None
        assert (await clerk.api_keys.list(subject="user_2Nw1sJ2fbn3hKP0cmh9L8yVZ4xk")).total_count == 0
        assert (await clerk.api_keys.list(subject="user_2Nw1sJ2fbn3hKP0cmh9L8yVZ4xk", include_invalid=True)).total_count == 1

        fake.fail("api_key_verify", "status", status=429, retry_after=5)
        try:
            await key_owner(clerk, secret)
            raise AssertionError("Clerk's 429 must reach the caller")
        except ClerkAPIError as error:
            assert (error.status, error.retry_after) == (429, 5)
        print("api keys ok")

    asyncio.run(main())
