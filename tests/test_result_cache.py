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
        assert len(clerk.store._results) <= 10  # type: ignore[attr-defined]


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
    assert (expired.status, expired.reason) == ("signed-out", "token-expired")
