"""Every answer within the timeout (issue 25, item 3): no request waits for Clerk twice, and an
unknown ``kid`` while Clerk is down gets one answer, every time (503, docs/security.md)."""

from __future__ import annotations

import asyncio

import pytest
import redis
from any_app import bearer, client

from clerk_fastapi.testing import FakeClerk

pytestmark = pytest.mark.anyio


async def test_a_worker_waiting_for_another_never_asks_clerk_again(
    fake_clerk: FakeClerk, redis_url: str
) -> None:
    """Clerk hangs: the worker that asked answers 503 at its timeout, and the worker that was
    waiting for that answer answers 503 with it, without a second wait of its own."""
    redis.Redis.from_url(redis_url).flushall()
    settings = {"cache_url": redis_url, "cache_timeout": 5.0, "http_timeout": 1.0}
    first, second = fake_clerk.clerk(**settings), fake_clerk.clerk(**settings)
    token = fake_clerk.m2m_token()
    fake_clerk.fail("m2m_verify", "slow", delay=60)
    async with client(first) as c1, client(second) as c2:
        asking = asyncio.create_task(c1.get("/any", headers=bearer(token)))
        for _ in range(1000):  # until the first worker's call reached Clerk (it holds the lock)
            if fake_clerk.hits["m2m_verify"]:
                break
            await asyncio.sleep(0.01)
        assert fake_clerk.hits["m2m_verify"] == 1
        waiting = await c2.get("/any", headers=bearer(token))
        asked = await asking
    assert asked.status_code == 503 and asked.headers["retry-after"]
    assert waiting.status_code == 503 and waiting.headers["retry-after"]
    # One wait for Clerk in all: the waiter took the first worker's answer.
    assert fake_clerk.hits["m2m_verify"] == 1


async def test_an_unknown_kid_while_clerk_is_down_is_always_503(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk(jwks_refetch_cooldown=60)
    known = fake_clerk.session_token()
    async with client(clerk) as c:
        assert (await c.get("/any", headers=bearer(known))).status_code == 200
        fake_clerk.clock.advance(61)  # past the cool-down the first load started (keys fresh)
        fake_clerk.fail("jwks", "down")
        answers = []
        for i in range(6):
            token = fake_clerk.sign(fake_clerk.session_claims(), {"kid": f"ins_rotated{i}"})
            answers.append(await c.get("/any", headers=bearer(token)))
        # Known keys keep working from the cache meanwhile.
        assert (await c.get("/any", headers=bearer(known))).status_code == 200
        fake_clerk.heal()
    assert [r.status_code for r in answers] == [503] * 6
    assert all(r.headers["retry-after"] for r in answers)
    # One reason too: the failed load's (Clerk's reason for a JWKS fetch that throws).
    assert {r.json()["detail"]["reason"] for r in answers} == {"unexpected-error"}


async def test_an_unknown_kid_while_clerk_answers_is_401(fake_clerk: FakeClerk) -> None:
    clerk = fake_clerk.clerk(jwks_refetch_cooldown=60)
    async with client(clerk) as c:
        assert (await c.get("/any", headers=bearer(fake_clerk.session_token()))).status_code == 200
        for i in range(3):
            token = fake_clerk.sign(fake_clerk.session_claims(), {"kid": f"ins_forged{i}"})
            response = await c.get("/any", headers=bearer(token))
            assert response.status_code == 401
            assert response.json()["detail"]["reason"] == "jwk-kid-mismatch"
