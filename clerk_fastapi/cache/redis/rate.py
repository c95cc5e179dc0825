"""The fleet-wide Backend API rate guard: one counter per window in Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clerk_fastapi.cache.local import LocalStore
from clerk_fastapi.cache.redis.connection import Failed, RedisConnection, counter
from clerk_fastapi.settings import ClerkSettings


class FleetRateGuard:
    def __init__(
        self,
        conn: RedisConnection,
        prefix: str,
        settings: ClerkSettings,
        clock: Callable[[], float],
        fallback: LocalStore,
    ) -> None:
        self._conn = conn
        self._prefix = prefix
        self._settings = settings
        self._clock = clock
        self._fallback = fallback

    async def take(self) -> float | None:
        """Count one Backend API call; ``None`` if allowed, else seconds until the next window.

        Without Redis the per-process guard of the near tier counts instead.
        """
        limit, window = self._settings.bapi_rate_limit, self._settings.bapi_rate_window
        if limit <= 0:
            return None
        now = self._clock()
        index = int(now // window)
        key = f"{self._prefix}rate:{index}"
        ttl_ms = int(window * 1000) + 1000

        async def incr(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.incr(key)
            pipe.pexpire(key, ttl_ms)
            return await pipe.execute()

        count = await self._conn.do(incr, counter)
        if isinstance(count, Failed):
            return await self._fallback.take_rate_token()
        if count > limit:
            return (index + 1) * window - now
        return None
