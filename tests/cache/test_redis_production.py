"""The shared tier in production conditions, on a real redis-server: restarts, failed calls, and
forgets that must never be lost (issue 25, items 1 and 2)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
import redis
from any_app import bearer, client
from redis_support import restartable_redis

from clerk_fastapi import Clerk
from clerk_fastapi.cache.redis.store import RedisStore
from clerk_fastapi.testing import FakeClerk, FrozenClock

pytestmark = pytest.mark.anyio
# Generous deadlines: these tests check what is decided, not how fast (a busy 2-core machine).
TIMEOUT = 5.0


def store_of(clerk: Clerk) -> RedisStore:
    store = clerk.store
    assert isinstance(store, RedisStore)
    return store


async def status(c: httpx.AsyncClient, token: str) -> int:
    return (await c.get("/any", headers=bearer(token))).status_code


async def test_a_redis_restart_costs_no_failed_call(
    fake_clerk: FakeClerk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Connections pooled before a restart are replaced on their first use, not failed."""
    with restartable_redis(str(tmp_path)) as server:
        first = fake_clerk.clerk(cache_url=server.url, cache_timeout=TIMEOUT)
        second = fake_clerk.clerk(cache_url=server.url, cache_timeout=TIMEOUT)
        tokens = [fake_clerk.session_token(f"user_{i}") for i in range(20)]
        async with client(first) as c:
            # Several pooled connections (concurrent requests), all dead after the restart.
            assert set(await asyncio.gather(*(status(c, t) for t in tokens))) == {200}
            server.stop()
            server.start()
            caplog.set_level(logging.WARNING, logger="clerk_fastapi")
            fresh = [fake_clerk.session_token(f"after_{i}") for i in range(20)]
            assert set(await asyncio.gather(*(status(c, t) for t in fresh))) == {200}
        assert not [r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]
        # The results verified just after the restart reached Redis: the second instance
        # serves them without ever loading the keys.
        jwks = fake_clerk.hits["jwks"]
        async with client(second) as c:
            assert set(await asyncio.gather(*(status(c, t) for t in fresh))) == {200}
        assert fake_clerk.hits["jwks"] == jwks


async def test_a_forget_made_while_redis_is_down_is_not_lost(
    fake_clerk: FakeClerk, tmp_path: Path
) -> None:
    """Issue 25 item 1: verified before Redis stopped, revoked and forgotten while it was down,
    Redis back from its persisted data: no worker accepts the token again."""
    with restartable_redis(str(tmp_path)) as server:
        settings = {
            "cache_url": server.url,
            "cache_timeout": TIMEOUT,
            "machine_token_cache_ttl": 300,
            "negative_cache_ttl": 0,  # every refusal below is a decision, not a remembered one
        }
        webhook, busy, idle = (fake_clerk.clerk(**settings) for _ in range(3))
        token, other = fake_clerk.api_key(), fake_clerk.api_key()
        async with client(webhook) as cw, client(busy) as cb, client(idle) as ci:
            for c in (cw, cb, ci):
                assert await status(c, token) == 200
                assert await status(c, other) == 200
            server.stop()
            fake_clerk.revoke(token)
            webhook.forget_token(token)  # lost today: Redis is down
            assert await status(cw, token) == 401  # applied here at once
            # A busy worker meets the outage (past its forget-log interval it cannot read the
            # log, so it drops what it remembers) and asks Clerk.
            clock = fake_clerk.clock
            assert isinstance(clock, FrozenClock)
            clock.advance(1.1)
            assert await status(cb, other) == 200
            assert await status(cb, token) == 401
            server.start()  # with the entries persisted before the outage
            # Once the busy worker finds Redis answering again, it trusts nothing older.
            for _ in range(200):
                assert await status(cb, other) == 200
                if not store_of(busy).conn.down:
                    break
                await asyncio.sleep(0.05)
                clock.advance(0.05)  # the forget-log interval runs on the fake's clock
            assert not store_of(busy).conn.down
            assert await status(cb, token) == 401
            # The forget reaches Redis (retried, in order), and a worker that never saw the
            # outage refuses the token too, from the log and from the shared tier.
            for _ in range(500):
                if not store_of(webhook).forgets.pending:
                    break
                await asyncio.sleep(0.02)
                clock.advance(0.02)  # the forget-log interval runs on the fake's clock
            assert not store_of(webhook).forgets.pending
            assert await status(ci, token) == 401
            assert await status(ci, other) == 200


async def test_a_forget_is_retried_after_a_failed_redis_call(
    fake_clerk: FakeClerk, tmp_path: Path
) -> None:
    """Issue 25 item 2: one failed Redis call in the forgetting worker must not lose the forget
    (Redis stays up for everyone else: only the webhook worker's user is refused for a while)."""
    with restartable_redis(str(tmp_path)) as server:
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("ACL", "SETUSER", "hook", "on", ">hookpw", "~*", "&*", "+@all")
        hook_url = server.url.replace("redis://", "redis://hook:hookpw@")
        settings = {"cache_timeout": TIMEOUT, "machine_token_cache_ttl": 300}
        webhook = fake_clerk.clerk(cache_url=hook_url, **settings)
        reader = fake_clerk.clerk(cache_url=server.url, **settings)
        token = fake_clerk.api_key()
        async with client(webhook) as cw, client(reader) as cr:
            assert await status(cw, token) == 200
            assert await status(cr, token) == 200  # in the reader's memory and in Redis
            fake_clerk.revoke(token)
            admin.execute_command("ACL", "SETUSER", "hook", "-@all")
            webhook.forget_token(token)
            await asyncio.sleep(0.2)  # its first attempt is refused (NOPERM)
            assert await status(cw, token) == 401  # applied here at once all the same
            admin.execute_command("ACL", "SETUSER", "hook", "+@all")
            # The reader never saw Redis fail: only the retried forget can tell it. Within the
            # documented bound (Redis takes the forget within the retry interval and the
            # back-off, the reader reads the log within a second), with a generous margin.
            refused_after = None
            clock = fake_clerk.clock
            assert isinstance(clock, FrozenClock)
            for attempt in range(100):
                if await status(cr, token) == 401:
                    refused_after = attempt
                    break
                await asyncio.sleep(0.1)
                clock.advance(0.1)  # the reader's forget-log interval runs on the fake's clock
            assert refused_after is not None, "the reader kept accepting a forgotten token"
