"""The verified-result cache: bounded, and never serves a token past its expiry."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI

from clerk_fastapi import Auth, Clerk, SessionAuth
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
    # Leftovers of earlier tests freed only after a finalizer ran must not be freed between
    # the two counts: collect until a pass finds nothing.
    while gc.collect():
        pass
    growth = tracked_after(3000) - tracked_after(1500)
    assert growth < 150  # 1,500 more results, fewer than 0.1 tracked objects each


# -- answers served from memory through a route --------------------------------------------------


def _route_app(clerk: Clerk) -> FastAPI:
    app = FastAPI()
    clerk.install(app)

    @app.get("/me")
    async def me(user: SessionAuth = Depends(Auth())) -> dict[str, str]:
        return {"user_id": user.user_id}

    return app


async def _get(app: FastAPI, token: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_a_route_stops_answering_from_memory_when_the_token_expires(
    fake_clerk: FakeClerk, frozen_clock: FrozenClock
) -> None:
    clerk = fake_clerk.clerk(clock_skew=0)
    app = _route_app(clerk)
    token = fake_clerk.session_token(expires_in=60)
    # Verified, then answered from memory twice (the second and third use keep a live answer).
    assert [await _get(app, token) for _ in range(3)] == [200, 200, 200]
    assert clerk.authenticator.verifications == 1
    frozen_clock.advance(61)
    assert await _get(app, token) == 401


async def test_a_route_stops_answering_from_memory_when_the_key_is_withdrawn(
    fake_clerk: FakeClerk, frozen_clock: FrozenClock
) -> None:
    clerk = fake_clerk.clerk()
    app = _route_app(clerk)
    old = fake_clerk.session_token("user_old", expires_in=3600)
    assert [await _get(app, old) for _ in range(3)] == [200, 200, 200]
    fake_clerk.rotate_key(keep_old=False)  # Clerk withdraws the key
    frozen_clock.advance(301)  # the JWKS is due for a refresh
    assert await _get(app, fake_clerk.session_token("user_new", expires_in=3600)) == 200
    assert await _get(app, old) == 401


async def test_forgetting_a_token_reaches_a_route_that_answered_it_from_memory(
    fake_clerk: FakeClerk,
) -> None:
    clerk = fake_clerk.clerk()
    app = _route_app(clerk)
    token = fake_clerk.session_token(expires_in=3600)
    assert [await _get(app, token) for _ in range(3)] == [200, 200, 200]
    assert clerk.authenticator.verifications == 1
    clerk.forget_token(token)
    assert await _get(app, token) == 200
    assert clerk.authenticator.verifications == 2  # verified again, not answered from memory


async def test_forgetting_a_token_reaches_results_cached_per_machine_secret_key(
    fake_clerk: FakeClerk,
) -> None:
    """A result cached for ``authenticate_token(..., machine_secret_key=...)`` is kept under
    that key; ``forget_token(token)`` (all a revocation webhook knows) drops it too."""
    clerk = fake_clerk.clerk(machine_token_cache_ttl=60)
    token = fake_clerk.m2m_token()
    key = fake_clerk.machine_secret_key

    async def sources() -> str | None:
        state = await clerk.authenticate_token(token, "m2m_token", machine_secret_key=key)
        assert state.status == "signed-in", state.reason
        return state.source

    assert [await sources(), await sources()] == ["verified", "cache"]
    assert fake_clerk.hits["m2m_verify"] == 1
    clerk.forget_token(token)
    assert await sources() == "verified"
    assert fake_clerk.hits["m2m_verify"] == 2


async def test_answers_from_memory_still_emit_one_event_each(fake_clerk: FakeClerk) -> None:
    """The cheap path for cached tokens is taken only when nobody listens: with a hook set,
    every request still produces its event (the first a miss, the rest hits)."""
    clerk = fake_clerk.clerk()
    events: list[tuple[str, str]] = []
    clerk.on_authenticated = lambda event: events.append((event.outcome, event.cache))
    app = _route_app(clerk)
    token = fake_clerk.session_token(expires_in=3600)
    assert [await _get(app, token) for _ in range(3)] == [200, 200, 200]
    assert events == [("authenticated", "miss"), ("authenticated", "hit"), ("authenticated", "hit")]
