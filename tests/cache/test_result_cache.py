"""The verified-result cache: bounded, and never serves a token past its expiry."""

from __future__ import annotations

import pytest

from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio


async def test_cache_is_bounded(fake_clerk: FakeClerk) -> None:
    fake = fake_clerk
    clerk = fake.clerk(session_cache_size=10)
    for i in range(50):
        state = await clerk.authenticate_token(fake.session_token(f"user_{i}"))
        assert state.status == "signed-in"
        assert len(clerk.store.results) <= 10  # type: ignore[attr-defined]


async def test_cache_never_outlives_the_token(
    fake_clerk: FakeClerk, frozen_clock: FrozenClock
) -> None:
    clock, fake = frozen_clock, fake_clerk
    clerk = fake.clerk(clock_skew=0)
    token = fake.session_token(expires_in=60)
    first = await clerk.authenticate_token(token)
    again = await clerk.authenticate_token(token)
    assert (first.source, again.source) == ("verified", "cache")
    clock.advance(61)
    expired = await clerk.authenticate_token(token)
    assert (expired.status, expired.reason) == (
        "signed-out",
        "session-token-expired-refresh-non-eligible-no-refresh-cookie",
    )


async def test_a_token_in_steady_use_survives_a_flood_of_one_off_tokens() -> None:
    fake = FakeClerk(clock=FrozenClock())
    clerk = fake.clerk(session_cache_size=20)
    steady = fake.session_token("user_steady", expires_in=3600)
    flood = [fake.session_token(f"user_{i}", expires_in=3600) for i in range(200)]
    steady_verifications = 0
    for i, token in enumerate(flood):
        if i % 10 == 0:
            state = await clerk.authenticate_token(steady)
            assert state.status == "signed-in"
            steady_verifications += state.source == "verified"
        assert (await clerk.authenticate_token(token)).status == "signed-in"
    assert steady_verifications == 1  # insertion-order eviction re-verified it every 20 tokens


def test_cached_results_are_not_traversed_by_the_garbage_collector() -> None:
    """Past the live hot tier, each further cached result adds no object the cyclic GC tracks:
    a full collection costs the same with 3,000 cached results as with 1,500."""
    import gc
    import time

    from clerk_fastapi.cache.results import HOT_ENTRIES, ResultCache
    from clerk_fastapi.kinds import token_digest
    from clerk_fastapi.kinds.session import session_auth_from_claims
    from clerk_fastapi.principals import Verified

    fake = FakeClerk(clock=FrozenClock())
    claims = fake.session_claims(org_id="org_1", role="admin", permissions=["org:a:b"])

    def tracked_after(n: int) -> int:
        cache = ResultCache(100_000, 10**9, fake.clock)
        for i in range(n):
            principal = session_auth_from_claims({**claims, "sub": f"user_{i}"})
            cache.put(token_digest(str(i)), Verified(principal, time.time() + 600))
        gc.collect()
        count = len(gc.get_objects())
        del cache
        gc.collect()
        return count

    assert HOT_ENTRIES < 1500
    growth = tracked_after(3000) - tracked_after(1500)
    assert growth < 150  # 1,500 more results, fewer than 0.1 tracked objects each
