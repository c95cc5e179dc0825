"""The shared verification cache on a real Redis: sharing, coalescing, isolation, integrity."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
import redis
from any_app import bearer, client_for, make_app
from fastapi import FastAPI
from redis_support import redis_server

from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
# These tests check what is shared, not degradation (test_redis_outage... does that with the
# defaults): a generous Redis deadline keeps them stable on a busy 2-core machine.
SEMANTIC_TIMEOUT = 5.0  # the largest the settings allow


async def burst(apps: list[FastAPI], token: str, n: int = 40) -> list[int]:
    """``n`` concurrent requests with one token, spread over ``apps`` (stand-ins for workers)."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(client_for(app)) for app in apps]
        responses = await asyncio.gather(
            *(clients[i % len(clients)].get("/any", headers=bearer(token)) for i in range(n))
        )
    return [r.status_code for r in responses]


async def test_jwt_result_is_shared_between_instances(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    token = fake_clerk.session_token()
    first = make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT))
    second = make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT))
    async with client_for(first) as c:
        assert (await c.get("/any", headers=bearer(token))).status_code == 200
    assert fake_clerk.hits["jwks"] == 1
    async with client_for(second) as c:
        response = await c.get("/any", headers=bearer(token))
    assert response.status_code == 200
    # The second instance never needed the keys: the verified result came from Redis.
    assert fake_clerk.hits["jwks"] == 1


async def test_opaque_verification_coalesces_across_instances(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    token = fake_clerk.m2m_token()
    fake_clerk.fail("m2m_verify", "slow", delay=0.2)
    # The whole burst falls inside the coalescing window, however busy the machine.
    settings = {"cache_url": redis_url, "cache_timeout": SEMANTIC_TIMEOUT, "coalesce_window": 10}
    apps = [make_app(fake_clerk.clerk(**settings)) for _ in range(4)]
    assert await burst(apps, token) == [200] * 40
    assert fake_clerk.hits["m2m_verify"] == 1


async def test_without_redis_each_instance_calls_clerk(fake_clerk: FakeClerk) -> None:
    token = fake_clerk.m2m_token()
    fake_clerk.fail("m2m_verify", "slow", delay=0.2)
    apps = [make_app(fake_clerk.clerk()) for _ in range(4)]
    assert await burst(apps, token) == [200] * 40
    # At least one call per instance: nothing is shared (the baseline Redis improves on). How
    # many more depends on timing (a request arriving after its instance's call ended makes
    # another), never more than one per request.
    assert 4 <= fake_clerk.hits["m2m_verify"] <= 40


async def test_negative_answer_is_shared(fake_clerk: FakeClerk, redis_url: str) -> None:
    bogus = "mt_" + "x" * 40
    a, b = (
        make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT))
        for _ in range(2)
    )
    async with client_for(a) as ca, client_for(b) as cb:
        assert (await ca.get("/any", headers=bearer(bogus))).status_code == 401
        assert (await cb.get("/any", headers=bearer(bogus))).status_code == 401
    assert fake_clerk.hits["m2m_verify"] == 1


async def test_tampered_or_forged_values_are_ignored_and_deleted(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clerk = fake_clerk.clerk(
        cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT, machine_token_cache_ttl=60
    )
    app = make_app(clerk)
    token = fake_clerk.api_key(scopes=["read"])
    async with client_for(app) as c:
        assert (await c.get("/any", headers=bearer(token))).status_code == 200
    store = clerk.store
    r = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in r.keys(f"{store.prefix}r:*")]  # type: ignore[attr-defined]
    assert len(keys) == 1
    # An attacker with Redis access rewrites the principal: the MAC no longer matches.
    value = r.get(keys[0])
    assert value is not None
    r.set(keys[0], value.replace(b"user_2test", b"user_admin"))
    fresh = make_app(
        fake_clerk.clerk(
            cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT, machine_token_cache_ttl=60
        )
    )
    fake_clerk.revoke(token)
    for published in r.keys(f"{store.prefix}p:*"):  # type: ignore[attr-defined]
        r.delete(published)  # step past the 1 s coalescing window without sleeping
    async with client_for(fresh) as c:
        response = await c.get("/any", headers=bearer(token))
    assert response.status_code == 401  # re-verified with Clerk, which says revoked
    assert r.get(keys[0]) is None  # the bad value was deleted
    # A forged entry for a token Clerk never issued does not authenticate it either.
    forged = "ak_" + "f" * 40
    from clerk_fastapi.kinds import token_digest

    r.set(store.key("r", token_digest(forged)), value)  # type: ignore[attr-defined]
    async with client_for(fresh) as c:
        assert (await c.get("/any", headers=bearer(forged))).status_code == 401


async def test_redis_outage_fails_no_request(
    fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server() as (url, proc):
        clerk = fake_clerk.clerk(cache_url=url)
        app = make_app(clerk)
        good = [fake_clerk.session_token(f"user_{i}") for i in range(5)] + [fake_clerk.m2m_token()]
        bad = "mt_" + "y" * 40
        async with client_for(app) as c:
            for token in good:
                assert (await c.get("/any", headers=bearer(token))).status_code == 200
            proc.kill()
            proc.wait()
            clerk.clear_caches()
            caplog.set_level(logging.WARNING, logger="clerk_fastapi")
            for _ in range(3):
                for token in good:
                    assert (await c.get("/any", headers=bearer(token))).status_code == 200
                assert (await c.get("/any", headers=bearer(bad))).status_code == 401
    warnings = [r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # one warning per outage, not per request


async def test_revocation_with_shared_positive_cache_off_and_on(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    clock = fake_clerk.clock
    assert isinstance(clock, FrozenClock)
    off = make_app(fake_clerk.clerk(cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT))
    on = make_app(
        fake_clerk.clerk(
            cache_url=redis_url, cache_timeout=SEMANTIC_TIMEOUT, machine_token_cache_ttl=30
        )
    )
    token_off, token_on = fake_clerk.api_key(), fake_clerk.api_key()
    async with client_for(off) as c_off, client_for(on) as c_on:
        assert (await c_off.get("/any", headers=bearer(token_off))).status_code == 200
        assert (await c_on.get("/any", headers=bearer(token_on))).status_code == 200
        fake_clerk.revoke(token_off)
        fake_clerk.revoke(token_on)
        # Past the coalescing window the uncached token is re-checked and refused at once...
        clock.advance(1.1)
        assert (await c_off.get("/any", headers=bearer(token_off))).status_code == 401
        # ...while the cached one lives until its TTL (the documented trade-off), then fails.
        assert (await c_on.get("/any", headers=bearer(token_on))).status_code == 200
        clock.advance(31)
        assert (await c_on.get("/any", headers=bearer(token_on))).status_code == 401


async def test_fleet_wide_rate_guard_answers_503_before_clerk_would(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    a, b = (
        make_app(
            fake_clerk.clerk(
                cache_url=redis_url,
                cache_timeout=SEMANTIC_TIMEOUT,
                bapi_rate_limit=3,
                rate_reserve=0.0,  # the guard alone (the reserve's split is fleet-wide too)
            )
        )
        for _ in range(2)
    )
    async with client_for(a) as ca, client_for(b) as cb:
        statuses = []
        for i in range(6):
            c = ca if i % 2 else cb
            statuses.append((await c.get("/any", headers=bearer(fake_clerk.api_key()))).status_code)
        limited = await ca.get("/any", headers=bearer(fake_clerk.api_key()))
    assert statuses == [200, 200, 200, 503, 503, 503]
    assert int(limited.headers["retry-after"]) >= 1
    assert fake_clerk.hits["api_key_verify"] == 3
