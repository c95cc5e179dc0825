"""The fleet lock on a real Redis, with another process's steps placed between ours."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from clerk_fastapi.cache.redis.codec import Sealer, VerifiedCodec
from clerk_fastapi.cache.redis.connection import Failed, RedisConnection
from clerk_fastapi.cache.redis.fleet import FleetCoalescer
from clerk_fastapi.errors import TokenVerificationError
from clerk_fastapi.principals import Verified
from clerk_fastapi.settings import ClerkSettings

pytestmark = pytest.mark.anyio
DIGEST = b"\x01" * 32
SECRET = "sk_test_" + "f" * 40


class Interleaved(RedisConnection):
    """A connection that lets another process act right after our first Redis operation."""

    def __init__(self, url: str, between: Callable[[], Awaitable[None]]) -> None:
        super().__init__(url, timeout=5.0)
        self._between: Callable[[], Awaitable[None]] | None = between

    async def do(self, op: Callable[[Any], Awaitable[Any]], check: Callable[[Any], Any]) -> Any:
        result = await super().do(op, check)
        between, self._between = self._between, None
        if between is not None:
            await between()
        return result


def coalescer(conn: RedisConnection, url: str) -> FleetCoalescer:
    settings = ClerkSettings(secret_key=SECRET, cache_url=url, coalesce_window=10)
    return FleetCoalescer(conn, Sealer(SECRET, b"policy"), VerifiedCodec(dict), settings, time.time)


async def test_an_answer_published_between_our_steps_is_used_not_asked_again(
    redis_url: str,
) -> None:
    """Process A holds the lock and is asking Clerk. Right after our first look at Redis it
    publishes its answer and releases the lock. We must take A's answer: asking Clerk again
    (the lock is free by then) is the second call the fleet exists to avoid."""
    first = RedisConnection(redis_url, timeout=5.0)
    a = coalescer(first, redis_url)
    lock_key = Sealer(SECRET, b"policy").key("l", DIGEST)
    pub_key = Sealer(SECRET, b"policy").key("p", DIGEST)
    took = await first.do(lambda r: r.set(lock_key, "process-a", px=30_000), lambda x: x)
    assert took is True

    async def a_finishes() -> None:
        await a._publish(pub_key, {"k": "invalid", "r": "token-invalid", "m": "not found"})
        await first.do(lambda r: r.delete(lock_key), lambda x: x)

    b = coalescer(Interleaved(redis_url, a_finishes), redis_url)
    asked: list[str] = []

    async def ask_clerk() -> Verified:
        asked.append("b")
        raise TokenVerificationError("token-invalid", "asked again")

    with pytest.raises(TokenVerificationError) as caught:
        await b.once(DIGEST, ask_clerk)
    assert caught.value.message == "not found"
    assert asked == []


async def test_a_lock_is_released_only_by_its_owner(redis_url: str) -> None:
    """Our lock outlived its expiry and process C took it: finishing must not free C's lock."""
    conn = RedisConnection(redis_url, timeout=5.0)
    lock_key = Sealer(SECRET, b"policy").key("l", b"\x02" * 32)

    async def slow_call() -> Verified:
        # Meanwhile our lock expired and C claimed the same token.
        await conn.do(lambda r: r.set(lock_key, "process-c", px=30_000), lambda x: x)
        raise TokenVerificationError("token-invalid", "not found")

    with pytest.raises(TokenVerificationError):
        await coalescer(conn, redis_url).once(b"\x02" * 32, slow_call)
    holder = await conn.do(lambda r: r.get(lock_key), lambda x: x)
    assert not isinstance(holder, Failed)
    assert holder == b"process-c"
