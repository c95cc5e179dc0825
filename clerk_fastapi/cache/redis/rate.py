"""The fleet-wide counter the Backend API rate guard (cache/policy.py) counts with."""

from __future__ import annotations

from typing import Any

from clerk_fastapi.cache.redis.connection import Failed, RedisConnection, counter


class SharedCounter:
    def __init__(self, conn: RedisConnection, prefix: str) -> None:
        self._conn = conn
        self._prefix = prefix

    async def add(self, name: str, ttl_ms: int) -> int | None:
        """One more on ``name`` (kept ``ttl_ms``); its count, or ``None`` without Redis."""
        key = f"{self._prefix}{name}"

        async def incr(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.incr(key)
            pipe.pexpire(key, ttl_ms)
            return await pipe.execute()

        count = await self._conn.do(incr, counter)
        return None if isinstance(count, Failed) else count
